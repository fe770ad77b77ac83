"""Read-only views for NextSupport staff. Consumer records themselves are not shown here:
staff reach personal data only through the audited compliance workflows."""

from django.contrib import admin

from .models import ContactList, ImportJob, PlatformSuppression, ScreeningRegister


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScreeningRegister)
class ScreeningRegisterAdmin(ReadOnlyAdmin):
    """Loaded with `manage.py load_screening_register`."""

    list_display = ("kind", "file_date", "status", "numbers", "unreadable_lines", "imported_at", "imported_by")
    list_filter = ("kind", "status")


@admin.register(ContactList)
class ContactListAdmin(ReadOnlyAdmin):
    list_display = ("name", "organisation", "purpose", "created_at", "screened_at", "released_at")
    list_filter = ("purpose",)
    search_fields = ("name", "organisation__legal_name")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "organisation",
        "contact_list",
        "status",
        "rows_read",
        "created",
        "updated",
        "rejected",
        "suppressed",
        "duplicates",
        "attempts",
        "uploaded_at",
        "finished_at",
    )
    list_filter = ("status",)
    exclude = ("file",)


@admin.register(PlatformSuppression)
class PlatformSuppressionAdmin(ReadOnlyAdmin):
    """Only reasons and dates: the numbers themselves are not stored."""

    list_display = ("created_at", "reason", "source")
    list_filter = ("reason", "source")
    exclude = ("phone_index",)
