from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.utils.formats import date_format
from django.utils.timezone import localtime

from nextsupport import audit, privacy

from . import services
from .models import Enquiry, EnquiryReply


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
class EnquiryAdmin(admin.ModelAdmin):
    """Contact-form enquiries (P09). The list shows no personal data; opening one is audited."""

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            enquiry = self.get_object(request, object_id)
            if enquiry is not None:
                audit.record(audit.PERSONAL_DATA_REVEALED, request=request, target=enquiry, reason="enquiry opened in the admin")
        return super().change_view(request, object_id, form_url, extra_context)

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

    @admin.action(description="Mark the selected enquiries as resolved")
    def mark_resolved(self, request, queryset):
        for enquiry in queryset:
            services.enquiry_resolve(enquiry=enquiry, actor=request.user, request=request)
        self.message_user(request, "Resolved. They are deleted 30 days after resolution (or a year after arrival).")

    @admin.action(description="Reopen the selected enquiries")
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
    """Stored files whose rows are gone but which could not be deleted yet: every run tries them again."""

    list_display = ("model_label", "storage", "queued_at", "attempts", "last_tried_at", "last_error")
    list_filter = ("storage", "model_label")
    fields = ("model_label", "storage", "name", "queued_at", "attempts", "last_tried_at", "last_error")
