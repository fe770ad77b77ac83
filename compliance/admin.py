from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.utils.formats import date_format
from django.utils.timezone import localtime

from . import services
from .admin_masking import MaskedPersonalDataAdmin
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


# --- Breaches, records and evidence: modules of their own (sub-domains) ---
from . import admin_breaches, admin_records  # noqa: E402, F401
