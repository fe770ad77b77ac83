from django.contrib import admin

from .models import AuditEvent


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
        "ip_address",
    )
    list_filter = ("action", "target_type")
    search_fields = ("action", "target_type", "target_id", "actor_label", "=organisation_id")
    date_hierarchy = "occurred_at"
    ordering = ("-sequence",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
