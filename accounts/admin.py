from django.contrib import admin

from .models import Membership, Organisation, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    # No password hash, ever: the admin shows who someone is, not their secrets.
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active")
    search_fields = ("email",)
    fields = ("email", "full_name", "is_active", "is_staff", "groups", "date_joined", "last_login")
    readonly_fields = ("date_joined", "last_login")
    filter_horizontal = ("groups",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("legal_name", "company_number", "status", "contract_start", "contract_end", "created_at")
    list_filter = ("status",)
    search_fields = ("legal_name", "company_number")
    inlines = [MembershipInline]
