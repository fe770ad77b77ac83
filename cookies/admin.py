import uuid

from django.contrib import admin, messages

from . import services
from .models import ConsentRecord, RegisterEntry


@admin.register(RegisterEntry)
class RegisterEntryAdmin(admin.ModelAdmin):
    """The cookie register: what the cookie policy lists and what withdrawal deletes."""

    list_display = ("name", "kind", "category", "provider", "duration", "position")
    list_filter = ("category", "kind", "provider")
    search_fields = ("name", "provider", "purpose")
    ordering = ("category", "position", "name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._remind_to_republish(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._remind_to_republish(request)

    def _remind_to_republish(self, request):
        # Visitors' existing choices were made against the old list: a new version
        # of the cookie policy is what makes the banner ask everyone again.
        self.message_user(
            request,
            "The cookie policy page shows this change now. If it adds a cookie or script that visitors "
            "have not agreed to, publish a new version of the cookie policy so everyone is asked again.",
            messages.WARNING,
        )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Consent proof (P18): read-only, found by the consent id a visitor quotes (DSARs).

    Records are only added by the consent endpoint and removed by the 12-month purge.
    """

    list_display = ("consent_id", "created_at", "categories", "policy_version", "banner_version", "gpc")
    list_filter = ("gpc", "policy_version")
    search_fields = ("consent_id",)
    search_help_text = "Search by the consent ID a visitor quotes (shown in their cookie settings)."
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]

    def changelist_view(self, request, extra_context=None):
        # Records still in the buffer on their way here must be found too.
        services.consent_buffer_flush()
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            consent_id = uuid.UUID(term)
        except ValueError:
            self.message_user(
                request, f"“{term}” is not a consent ID (it looks like 1b4e28ba-2fa1-11d2-883f-0016d3cca427).", messages.ERROR
            )
            return queryset.none(), False
        return queryset.filter(consent_id=consent_id), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
