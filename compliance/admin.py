from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.utils.formats import date_format
from django.utils.timezone import localtime

from nextsupport import audit, privacy

from . import services
from .admin_masking import MaskedPersonalDataAdmin
from .models import Enquiry, EnquiryReply, ErasureLogEntry, Rectification  # erasure section, at the end


def _delivery(*, sent_at, sending_since, error) -> str:
    """Where an e-mail to the enquirer stands: never "sent" unless it left us."""
    if sent_at:
        return f"Sent {date_format(localtime(sent_at), 'DATETIME_FORMAT')}"
    if sending_since:
        return (
            f"Sending since {date_format(localtime(sending_since), 'DATETIME_FORMAT')}; not confirmed. "
            "If this does not change, the e-mail may not have left: check with the enquirer."
        )
    if error:
        return f"Not sent: {error}. A mail server that was unavailable is tried again automatically."
    return "Queued"


class EnquiryReplyInline(admin.StackedInline):
    """Sent replies are a record: shown, never edited. A new one is e-mailed when the enquiry is saved."""

    model = EnquiryReply
    extra = 1
    fields = ("body", "sent_by", "created_at", "delivery")
    readonly_fields = ("sent_by", "created_at", "delivery")
    verbose_name = "reply (e-mailed to the enquirer when you save)"

    @admin.display(description="E-mail")
    def delivery(self, obj):
        if obj.pk is None:
            return self.get_empty_value_display()  # a reply not yet written
        return _delivery(sent_at=obj.sent_at, sending_since=obj.sending_since, error=obj.send_error)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enquiry)
class EnquiryAdmin(MaskedPersonalDataAdmin):
    """Contact-form enquiries (P09). Personal data stays masked until revealed, and each reveal is audited."""

    masked_fields = ("name", "email", "subject", "message")

    list_display = ("__str__", "status", "received_at", "acknowledged_at", "reply_count", "last_reply_at", "resolved_at")
    list_filter = ("status",)
    date_hierarchy = "received_at"
    search_help_text = "Search by the enquirer's exact e-mail address (for data-subject requests)."
    search_fields = ("email_index",)
    actions = ("mark_resolved", "reopen")
    fields = ("name", "email", "subject", "message", "status", "received_at", "acknowledgement", "resolved_at")
    readonly_fields = fields
    inlines = [EnquiryReplyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reply_total=Count("replies"), last_reply=Max("replies__sent_at"))

    @admin.display(description="Acknowledgement e-mail")
    def acknowledgement(self, obj):
        return _delivery(
            sent_at=obj.acknowledged_at, sending_since=obj.acknowledgement_sending_since, error=obj.acknowledgement_error
        )

    @admin.display(description="Replies", ordering="reply_total")
    def reply_count(self, obj):
        return obj.reply_total

    @admin.display(description="Last reply sent", ordering="last_reply")
    def last_reply_at(self, obj):
        return obj.last_reply

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(email_index__matches=term), False
        except ValidationError:
            self.message_user(
                request, f"“{term}” is not an e-mail address: enquiries are found by exact address.", messages.ERROR
            )
            return queryset.none(), False

    def has_add_permission(self, request):
        return False

    def save_formset(self, request, form, formset, change):
        # New replies go through the service, which records and e-mails them (never formset.save()).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for reply_form in formset.forms:
            if reply_form.has_changed() and reply_form.instance.pk is None and reply_form.cleaned_data.get("body"):
                reply = services.enquiry_reply(
                    enquiry=form.instance, body=reply_form.cleaned_data["body"], sender=request.user, request=request
                )
                formset.new_objects.append(reply)
                self.message_user(request, "Your reply is being e-mailed to the enquirer.")

    # Changing an enquiry's status needs the change permission: viewing it is not enough.
    @admin.action(description="Mark the selected enquiries as resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        for enquiry in queryset:
            services.enquiry_resolve(enquiry=enquiry, actor=request.user, request=request)
        self.message_user(request, "Resolved. They are deleted 30 days after resolution (or a year after arrival).")

    @admin.action(description="Reopen the selected enquiries", permissions=["change"])
    def reopen(self, request, queryset):
        for enquiry in queryset:
            services.enquiry_reopen(enquiry=enquiry, actor=request.user, request=request)
        self.message_user(request, "Reopened.")


# --- Retention (compliance.retention, docs/retention.md) ------------------------------------

from django.db.models import Sum  # noqa: E402  (kept with its section so merges stay simple)

from . import retention  # noqa: E402
from .models import LegalHold, RetentionReceipt, RetentionRule, RetentionRun, StorageDeletion  # noqa: E402


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False


# --- Data-subject requests (compliance.requests) ---------------------------------------------------

from django import forms  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.http import HttpResponseRedirect  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import format_html, format_html_join  # noqa: E402

from nextsupport.identifiers import mask_email, mask_phone  # noqa: E402

from . import deadlines, requests, selectors  # noqa: E402
from .events import REQUEST_OPENED  # noqa: E402
from .models import DataSubjectRequest, RefusalGround, RequestEvent, RequestKind, RequestPart  # noqa: E402


class DeadlineFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return (("overdue", "Overdue"), ("due_soon", f"Due within {deadlines.DUE_SOON_DAYS} days"))

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=selectors.requests_overdue().values("pk"))
        if self.value() == "due_soon":
            return queryset.filter(pk__in=selectors.requests_due_soon().values("pk"))
        return queryset


class RequestEntryForm(forms.ModelForm):
    """A request that came by e-mail, phone or post."""

    verified_by = forms.CharField(
        required=False,
        max_length=200,
        label="Identity already confirmed by",
        help_text="E.g. 'replied from the address on file'. Leave empty to send the person a one-time link and code.",
    )

    class Meta:
        model = DataSubjectRequest
        fields = ("kind", "channel", "phone", "email", "name", "details", "received_at")


class RequestChangeForm(forms.ModelForm):
    """Every change goes through compliance.requests; the fields below say what to do."""

    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Add an internal note")
    pause = forms.CharField(required=False, label="Pause the clock: what we are waiting for from the requester")
    resume = forms.BooleanField(required=False, label="The requester answered: run the clock again")
    extend_days = forms.IntegerField(
        required=False, min_value=1, max_value=deadlines.MAX_EXTENSION_DAYS, label="Extend by (days)"
    )
    extend_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why it is complex or numerous"
    )
    refuse_ground = forms.ChoiceField(required=False, choices=[("", "—"), *RefusalGround.choices], label="Refuse on this ground")
    refuse_detail = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Refusal, in the requester's words"
    )
    correct_item = forms.CharField(
        required=False, label="Correct an item", help_text="As listed under 'NextSupport's items', e.g. accounts.User:12."
    )
    correct_field = forms.CharField(required=False, label="Field to correct")
    correct_value = forms.CharField(required=False, label="Correct value")
    complete = forms.BooleanField(required=False, label="Mark completed (e.g. the correction is made)")

    def clean(self):
        data = super().clean()
        item = (data.get("correct_item") or "").strip()
        if item:
            label, _, pk = item.rpartition(":")
            if not label or not pk.isdigit() or not data.get("correct_field"):
                raise forms.ValidationError("Name the item as label:id (e.g. accounts.User:12) and the field to correct.")
            data["correct_item"] = (label, int(pk))
        return data

    class Meta:
        model = DataSubjectRequest
        fields = ("assigned_to",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = get_user_model().objects.filter(is_staff=True, is_active=True)


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    fields = ("occurred_at", "kind", "action", "note", "actor")
    readonly_fields = fields
    verbose_name_plural = "timeline and internal notes"
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RequestPartInline(admin.TabularInline):
    model = RequestPart
    extra = 0
    fields = ("organisation", "state", "item_count", "categories", "forwarded_at", "due_on", "answered_at", "answer_note")
    readonly_fields = fields
    verbose_name_plural = "parts forwarded to clients (controllers)"
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """Data-subject requests (P35-P43). The list masks identifiers; opening one is audited."""

    list_display = ("reference", "kind", "state", "deadline", "masked_identifiers", "channel", "received_at", "assigned_to")
    list_filter = (DeadlineFilter, "state", "kind", "channel")
    search_fields = ("reference",)
    search_help_text = "Search by reference (DSR-2026-000123), or by the requester's exact phone number or e-mail address."
    date_hierarchy = "received_at"
    inlines = [RequestPartInline, RequestEventInline]
    actions = ("run_again",)
    readonly_fields = (
        "reference", "kind", "channel", "state", "deadline", "name", "phone", "email", "details", "received_at",
        "verified_at", "verified_by", "pause_reason", "extension_days", "extension_reason", "refusal_ground",
        "refusal_detail", "completed_at", "receipt", "package_created_at", "processed_at", "verification", "own_items",
    )  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = RequestChangeForm if obj is not None else RequestEntryForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*RequestEntryForm.Meta.fields, "verified_by"]
        actions = [
            "assigned_to",
            "note",
            "pause",
            "resume",
            "extend_days",
            "extend_reason",
            "refuse_ground",
            "refuse_detail",
            "complete",
        ]
        return [*self.readonly_fields, *actions]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="Deadline", ordering="due_on")
    def deadline(self, obj):
        standing = selectors.request_standing(obj)
        if standing is None:
            return "Clock not running" if obj.is_open else "—"
        when = date_format(obj.due_on, "j M Y")
        paused = " (paused)" if obj.is_paused else ""
        if standing == deadlines.Standing.OVERDUE:
            return format_html("<strong>⚠ OVERDUE</strong> since {}{}", when, paused)
        if standing == deadlines.Standing.DUE_SOON:
            return format_html("<strong>Due soon:</strong> {}{}", when, paused)
        return f"{when}{paused}"

    @admin.display(description="Verification codes sent")
    def verification(self, obj):
        if obj.pk is None:
            return "—"
        rows = [
            (c.get_channel_display(), _delivery(sent_at=c.sent_at, sending_since=c.sending_since, error=c.send_error),
             "used" if c.used_at else ("expired" if c.expires_at <= timezone.now() else "waiting"))
            for c in obj.challenges.all()
        ]  # fmt: skip
        return format_html_join("\n", "<div>{}: {} ({})</div>", rows) or "None (verified by staff)"

    @admin.display(description="NextSupport's items (to correct)")
    def own_items(self, obj):
        from . import discovery

        if obj.pk is None or obj.kind != RequestKind.RECTIFICATION or obj.verified_at is None:
            return "—"
        found = discovery.find(requests.subject_of(obj), organisation_ids={None})
        rows = [f"{item.label}:{item.obj.pk} ({', '.join(item.registration.fields)})" for item in found.items]
        return format_html_join("\n", "<div>{}</div>", ((row,) for row in rows)) or "Nothing held"

    @admin.display(description="Requester")
    def masked_identifiers(self, obj):
        return " · ".join(filter(None, [obj.phone and mask_phone(obj.phone), obj.email and mask_email(obj.email)]))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.upper().startswith("DSR-"):
            return queryset.filter(reference=term.upper()), False
        for index in ("email_index", "phone_index"):
            try:
                return queryset.filter(**{f"{index}__matches": term}), False
            except ValidationError:
                continue
        self.message_user(request, f"“{term}” is not a reference, a phone number or an e-mail address.", messages.ERROR)
        return queryset.none(), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and (dsr := self.get_object(request, object_id)) is not None:
            audit.record(REQUEST_OPENED, request=request, target=dsr, reason="request opened in the admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False  # kept as evidence (P14); the retention purge deletes them

    def save_model(self, request, obj, form, change):
        # Through the services, never obj.save(): each step is audited and on the timeline.
        if not change:
            data = form.cleaned_data
            dsr = requests.request_enter(
                kind=data["kind"], channel=data["channel"], phone=data.get("phone"), email=data.get("email"),
                name=data.get("name") or "", details=data.get("details") or "", received_at=data.get("received_at"),
                verified_by=data.get("verified_by") or "", actor=request.user, request=request,
            )  # fmt: skip
            # The admin's own `obj` was never saved: point it at the row the service made.
            obj.pk, obj.reference, obj._state.adding = dsr.pk, dsr.reference, False
            return
        try:
            self._apply(request, DataSubjectRequest.objects.get(pk=obj.pk), form.cleaned_data)
        except ValidationError as error:
            request.request_change_refused = True
            self.message_user(request, " ".join(error.messages), messages.ERROR)

    def response_change(self, request, obj):
        if getattr(request, "request_change_refused", False):
            # Back to the form with the reason, never a "changed successfully" beside it.
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Run discovery and NextSupport's actions again (after a failure)")
    def run_again(self, request, queryset):
        for dsr in queryset:
            try:
                requests.request_reprocess(dsr=dsr, actor=request.user, request=request)
            except ValidationError as error:
                self.message_user(request, f"{dsr}: {' '.join(error.messages)}", messages.ERROR)

    def _apply(self, request, dsr, data) -> None:
        who = {"actor": request.user, "request": request}
        if data.get("assigned_to") != dsr.assigned_to:
            requests.request_assign(dsr=dsr, assignee=data.get("assigned_to"), **who)
        if data.get("note"):
            requests.request_note(dsr=dsr, text=data["note"], **who)
        if data.get("pause"):
            requests.request_pause(dsr=dsr, reason=data["pause"], **who)
        if data.get("resume"):
            requests.request_resume(dsr=dsr, **who)
        if data.get("extend_days"):
            requests.request_extend(dsr=dsr, days=data["extend_days"], reason=data.get("extend_reason") or "", **who)
        if data.get("refuse_ground"):
            requests.request_refuse(dsr=dsr, ground=data["refuse_ground"], detail=data.get("refuse_detail") or "", **who)
        if data.get("correct_item"):
            label, pk = data["correct_item"]
            requests.request_rectify(
                dsr=dsr, label=label, pk=pk, field=data["correct_field"], value=data.get("correct_value") or "", **who
            )
        if data.get("complete"):
            requests.request_complete(dsr=dsr, **who)

    def save_formset(self, request, form, formset, change):
        # The inlines are read-only records: nothing of them is ever saved from the form.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Erasure and rectification (compliance.erasure) ---
# Read-only: these rows are written only by compliance.erasure. No digest and no
# corrected value is shown (a correction's before/after stays in the access package).


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """The retention rules: the privacy policy's periods, and any shorter (or justified longer) one staff set."""

    list_display = ("model_label", "category", "action", "kept_for", "counted_from", "survives", "changed_at")
    actions = ("dry_run",)
    fields = ("model_label", "category", "action", "policy_period", "counted_from", "basis", "survives", "days", "reason")
    readonly_fields = ("model_label", "category", "action", "policy_period", "counted_from", "basis", "survives")

    def changelist_view(self, request, extra_context=None):
        retention.rules_sync()  # a model registered since the last run gets its rule shown
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _retention(self, obj):
        registration = obj.registration
        return registration.retention if registration else None

    @admin.display(description="Category")
    def category(self, obj):
        return privacy.Category(obj.registration.category).label if obj.registration else "-"

    @admin.display(description="At expiry")
    def action(self, obj):
        rule = self._retention(obj)
        return rule.action.label if rule else "-"

    @admin.display(description="Kept for")
    def kept_for(self, obj):
        rule = self._retention(obj)
        if rule is None or not rule.runs:
            return "Not time-based (see the basis)"
        changed = "" if obj.days is None else f" (policy: {rule.days})"
        return f"{obj.effective_days} days{changed}"

    @admin.display(description="Policy period")
    def policy_period(self, obj):
        rule = self._retention(obj)
        return f"{rule.days} days" if rule and rule.days is not None else "Not time-based"

    @admin.display(description="Counted from")
    def counted_from(self, obj):
        rule = self._retention(obj)
        if rule is None or not rule.after:
            return "-"
        sooner = "".join(f"; or {clock.days} days after {clock.after}, if sooner" for clock in rule.sooner)
        return f"{rule.after}{sooner}"

    @admin.display(description="Basis")
    def basis(self, obj):
        rule = self._retention(obj)
        return rule.basis if rule else "-"

    @admin.display(description="What survives")
    def survives(self, obj):
        rule = self._retention(obj)
        if rule is None:
            return "-"
        if rule.survives:
            return rule.survives
        return {
            "delete": "Nothing of the row.",
            "anonymise": "The row, with its personal fields cleared.",
            "retain": "Everything: a legal obligation requires it.",
        }[rule.action]

    def save_model(self, request, obj, form, change):
        # The form has run the rule's checks (a longer period needs its reason).
        services.retention_rule_set(
            rule=obj, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"], by=request.user, request=request
        )

    @admin.action(description="Dry run: count what a purge now would delete or anonymise")
    def dry_run(self, request, queryset):
        labels = set(queryset.values_list("model_label", flat=True))
        found = retention.preview(labels=labels)
        for line in found:
            verb = "delete" if line.action == "delete" else "anonymise"
            self.message_user(request, f"{line.model_label}: would {verb} {line.due}, {line.held} held.", messages.INFO)
        if not found:
            self.message_user(request, "None of these rules removes data on a schedule.", messages.INFO)


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """Legal holds: what they cover is skipped by every purge until the hold ends or is lifted."""

    list_display = ("__str__", "scope", "placed_by", "placed_at", "until", "lifted_at", "in_force")
    list_filter = ("scope",)
    actions = ("lift",)
    fields = ("scope", "organisation", "consumer_id", "target_model", "target_id", "reason", "until")

    def get_readonly_fields(self, request, obj=None):
        # A hold is a record: to change one, lift it and place another.
        return (*self.fields, "placed_by", "placed_at", "lifted_by", "lifted_at") if obj else ()

    def get_fields(self, request, obj=None):
        return (*self.fields, "placed_by", "placed_at", "lifted_by", "lifted_at") if obj else self.fields

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="In force")
    def in_force(self, obj):
        return LegalHold.objects.active().filter(pk=obj.pk).exists()

    def save_model(self, request, obj, form, change):
        if not change:
            services.legal_hold_place(hold=obj, by=request.user, request=request)

    @admin.action(description="Lift the selected holds")
    def lift(self, request, queryset):
        lifted = sum(services.legal_hold_lift(hold=hold, by=request.user, request=request) for hold in queryset)
        self.message_user(request, f"{lifted} hold(s) lifted.", messages.SUCCESS)


class RetentionReceiptInline(admin.TabularInline):
    model = RetentionReceipt
    fields = (
        "category",
        "model_label",
        "action",
        "deleted",
        "anonymised",
        "held",
        "skipped",
        "files_deleted",
        "files_pending",
        "seconds",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(_ReadOnlyAdmin):
    """Every purge and under-16 sweep with its receipts: counts and times, never the data (P34)."""

    list_display = ("__str__", "kind", "status", "started_by", "started_at", "finished_at", "deleted", "anonymised", "held")
    list_filter = ("kind", "status")
    fields = ("kind", "status", "started_by", "started_at", "finished_at")
    inlines = (RetentionReceiptInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_deleted=Sum("receipts__deleted"),
                total_anonymised=Sum("receipts__anonymised"),
                total_held=Sum("receipts__held"),
            )
        )

    @admin.display(description="Deleted")
    def deleted(self, obj):
        return obj.total_deleted or 0

    @admin.display(description="Anonymised")
    def anonymised(self, obj):
        return obj.total_anonymised or 0

    @admin.display(description="Held")
    def held(self, obj):
        return obj.total_held or 0


@admin.register(StorageDeletion)
class StorageDeletionAdmin(_ReadOnlyAdmin):
    """Stored files whose rows are gone or erased but which could not be deleted yet: every purge and erasure tries them again."""

    list_display = ("model_label", "storage", "reference", "queued_at", "attempts", "last_tried_at", "last_error")
    list_filter = ("storage", "model_label")
    fields = ("model_label", "storage", "name", "reference", "queued_at", "attempts", "last_tried_at", "last_error")
    actions = ("retry_now",)

    @admin.action(description="Try deleting the selected files again", permissions=["view"])
    def retry_now(self, request, queryset):
        from .erasure import delete_file

        gone = sum(delete_file(e.storage, e.name, reference=e.reference, model_label=e.model_label) for e in queryset)
        self.message_user(request, f"{gone} file(s) deleted and checked gone; the others stay queued.")


@admin.register(ErasureLogEntry)
class ErasureLogEntryAdmin(_ReadOnly):
    list_display = ("reference", "scope", "erased_at", "completed_at", "replays", "replayed_at")
    search_fields = ("reference",)
    fields = ("reference", "scope", "organisation_ids", "receipt", "erased_at", "completed_at", "replays", "replayed_at")


@admin.register(Rectification)
class RectificationAdmin(_ReadOnly):
    list_display = ("label", "object_id", "fields_changed", "reference", "actor", "created_at")
    search_fields = ("reference",)
    fields = ("label", "object_id", "fields_changed", "reference", "organisation_id", "actor", "created_at")


# --- Breaches, records and evidence: modules of their own (sub-domains) ---
from . import admin_breaches, admin_records  # noqa: E402, F401
