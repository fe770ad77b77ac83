from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from . import audit, services
from .models import AuditEvent, PolicyDocument
from .net import address_digest


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail has no add, change or delete path, here or anywhere."""

    list_display = (
        "sequence",
        "occurred_at",
        "action",
        "actor_label",
        "target_type",
        "target_id",
        "organisation_id",
        "ip_network",
    )
    list_filter = ("action", "target_type", "occurred_at", ("actor", admin.EmptyFieldListFilter))
    change_list_template = "admin/nextsupport/auditevent/change_list.html"
    search_fields = ("action", "target_type", "target_id", "actor_label", "=organisation_id", "=ip_digest", "=ip_address")
    date_hierarchy = "occurred_at"
    ordering = ("-sequence",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="nextsupport_auditevent_verify")
        return [verify, *super().get_urls()]

    def verify_view(self, request):
        """Walk the whole chain now and say whether it holds, or where it breaks (P26)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Verify the audit trail",
            "opts": self.model._meta,
            "report": audit.verify_chain() if request.method == "POST" else None,
        }
        return TemplateResponse(request, "admin/nextsupport/auditevent/verify.html", context)

    def get_search_results(self, request, queryset, search_term):
        # An investigator types the address; the trail holds only its keyed hash.
        return super().get_search_results(request, queryset, address_digest(search_term.strip()) or search_term)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    """Drafts are edited here; publishing fixes the text. To change a published
    version, use "Draft the next version" and publish the draft when it is ready."""

    list_display = ("kind", "version", "title", "status", "effective_date", "significant_change", "published_at")
    list_filter = ("kind", "status", "significant_change")
    search_fields = ("title",)
    ordering = ("kind", "-version")
    actions = ("publish", "draft_next_version")
    fields = ("kind", "version", "title", "status", "effective_date", "significant_change", "summary_of_changes", "body")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("version", "status")
        if obj.is_published:
            return (*self.fields, "published_at", "clients_notified_at")
        return ("kind", "version", "status")

    def get_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return (*self.fields, "published_at", "clients_notified_at")
        return self.fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def get_changeform_initial_data(self, request):
        return {"effective_date": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New documents are numbered by the service, never by hand.
        created = services.policy_document_draft(
            kind=obj.kind,
            title=obj.title,
            body=obj.body,
            effective_date=obj.effective_date,
            summary_of_changes=obj.summary_of_changes,
            significant_change=obj.significant_change,
        )
        obj.pk, obj.version, obj._state.adding = created.pk, created.version, False

    # Publishing or drafting changes what every client and visitor is told: viewing is not enough.
    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish(self, request, queryset):
        for document in queryset.order_by("kind", "version"):
            try:
                services.policy_document_publish(document=document, request=request)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                note = " Clients are being e-mailed about this significant change." if document.significant_change else ""
                self.message_user(request, f"Published {document.get_kind_display()} version {document.version}.{note}")

    @admin.action(description="Draft the next version of the selected documents", permissions=["change"])
    def draft_next_version(self, request, queryset):
        for document in queryset:
            draft = services.policy_document_draft_from(document=document)
            self.message_user(request, f"Drafted {draft}: edit it, then publish it.")
