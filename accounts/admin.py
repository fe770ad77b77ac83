"""The accounts part of the back office: organisations and their onboarding review,
members, invitations, API keys, agreement acceptances and two-factor devices.

Nothing secret is shown: no password hashes, no key hashes, no TOTP secrets,
no backup codes. Client-supplied profile data is read-only here (clients edit
it themselves, P02); staff edit only contract dates, and act through services
(review, close, suspend, reopen, unlock, revoke) so that every consequence
(P29's retention clocks, the organisation_closed signal, e-mails) follows and
the audit trail records it.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from nextsupport import audit

from . import events, selectors, services, sign_in_limits
from .models import (
    APIKey,
    BackupCodeDevice,
    Invitation,
    Membership,
    OnboardingReview,
    Organisation,
    OrganisationStatusChange,
    PolicyAcceptance,
    Role,
    TOTPDevice,
    User,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    # No password hash, ever: the admin shows who someone is, not their secrets.
    list_display = ("email", "full_name", "is_staff", "is_active", "locked", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active")
    search_fields = ("email",)
    fields = (
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "groups",
        "date_joined",
        "last_login",
        "account_ended_on",
    )
    readonly_fields = ("date_joined", "last_login", "account_ended_on")
    filter_horizontal = ("groups",)
    actions = ["unlock"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only superusers grant staff access or groups.
            fields += ["email", "full_name", "is_staff", "groups"]
        return fields

    @admin.display(boolean=True, description="Sign-in paused everywhere")
    def locked(self, obj):
        return sign_in_limits.paused_everywhere(obj.email)

    @admin.action(description="Lift the pause on signing in to the selected accounts", permissions=["change"])
    def unlock(self, request, queryset):
        for user in queryset:
            if sign_in_limits.paused_everywhere(user.email):
                services.account_unlock(user=user, request=request, reason=services.UNLOCKED_BY_STAFF)
        self.message_user(request, "The selected accounts can sign in again.", messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OnboardingReviewInline(admin.TabularInline):
    model = OnboardingReview
    extra = 0
    fields = (
        "decision",
        "company_details_checked",
        "dpa_accepted",
        "lawful_basis_reviewed",
        "reason",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = OrganisationStatusChange
    extra = 0
    fields = ("changed_at", "previous_status", "status", "changed_by", "reason")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Status history"

    def has_add_permission(self, request, obj=None):
        return False


class OnboardingReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve: the organisation may launch calls"), ("reject", "Request changes")],
        widget=forms.RadioSelect,
    )
    company_details_checked = forms.BooleanField(
        required=False, label="Company details checked against the Companies House record"
    )
    dpa_accepted = forms.BooleanField(required=False, label="Current Data Processing Agreement accepted")
    lawful_basis_reviewed = forms.BooleanField(required=False, label="Lawful-basis statement reviewed and adequate")
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when requesting changes; it is e-mailed to the organisation's owners and admins.",
    )


class StatusChangeForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept with the organisation's record (encrypted) for the team and the client's requests.",
        error_messages={"required": "Say why: the reason is kept with the organisation's record."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(self.fields["reason"].error_messages["required"])
        return reason


# action name -> (service, what the confirmation page asks, what it did)
_STATUS_ACTIONS = {
    "close_organisations": (
        services.organisation_close,
        "Close the selected organisations",
        "Access stops for every member, API keys and invitations are revoked, the contract ends today and "
        "the six-year retention clock starts (P29). The owners and admins are e-mailed.",
    ),
    "suspend_organisations": (
        services.organisation_suspend,
        "Suspend the selected organisations",
        "Access stops for every member and API key until the organisation is reopened; the contract and its dates run on.",
    ),
    "reopen_organisations": (
        services.organisation_reopen,
        "Reopen the selected organisations",
        "Members can sign in again. A closed account's contract resumes: its end date and the members' retention "
        "clocks are cleared. Revoked API keys and invitations stay revoked.",
    ),
}


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = (
        "legal_name",
        "company_number",
        "status",
        "onboarding_status",
        "contract_start",
        "contract_end",
        "created_at",
    )
    list_filter = ("status", "onboarding_status")
    search_fields = ("legal_name", "trading_name", "company_number")
    date_hierarchy = "created_at"
    inlines = [MembershipInline, StatusChangeInline, OnboardingReviewInline]
    change_form_template = "admin/accounts/organisation/change_form.html"
    fieldsets = [
        ("Company", {"fields": ("legal_name", "trading_name", "company_number", "business_address", "lawful_basis_statement")}),
        ("Account", {"fields": ("status", "onboarding_status", "contract_start", "contract_end", "closed_at", "closed_by")}),
        (
            "Billing",
            {"fields": ("billing_contact_name", "billing_email", "billing_phone", "billing_address", "vat_number")},
        ),
        (
            "Service preferences",
            {
                "fields": (
                    "calling_hours_start",
                    "calling_hours_end",
                    "call_on_saturdays",
                    "call_on_sundays",
                    "record_calls_by_default",
                    "statement_frequency",
                )
            },
        ),
    ]
    # Staff edit only the contract dates; the status changes through the actions
    # below (the services they call do what a status change entails), and the
    # client's own data stays theirs.
    editable = {"contract_start", "contract_end"}
    actions = list(_STATUS_ACTIONS)

    def get_readonly_fields(self, request, obj=None):
        names = [name for _, section in self.fieldsets for name in section["fields"]]
        return [name for name in names if name not in self.editable]

    def has_add_permission(self, request):
        return False  # organisations are created by signing up

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are closed, never deleted (P29)

    def get_urls(self):
        review = path(
            "<int:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name="accounts_organisation_review",
        )
        return [review, *super().get_urls()]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            audit.record(
                events.ORGANISATION_UPDATED_BY_STAFF,
                request=request,
                target=obj,
                details={"fields": sorted(form.changed_data)},
            )

    @admin.action(description="Close the selected organisations…", permissions=["change"])
    def close_organisations(self, request, queryset):
        return self._change_status(request, queryset, "close_organisations")

    @admin.action(description="Suspend the selected organisations…", permissions=["change"])
    def suspend_organisations(self, request, queryset):
        return self._change_status(request, queryset, "suspend_organisations")

    @admin.action(description="Reopen the selected organisations…", permissions=["change"])
    def reopen_organisations(self, request, queryset):
        return self._change_status(request, queryset, "reopen_organisations")

    def _change_status(self, request, queryset, action: str):
        """First ask for the reason (a confirmation page), then call the service for each organisation."""
        service, title, consequences = _STATUS_ACTIONS[action]
        form = StatusChangeForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "consequences": consequences,
                "organisations": queryset,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "form": form,
            }
            return TemplateResponse(request, "admin/accounts/organisation/status_change.html", context)
        for organisation in queryset:
            try:
                service(organisation=organisation, by=request.user, reason=form.cleaned_data["reason"], request=request)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, f"{organisation}: done.", messages.SUCCESS)
        return None

    def review_view(self, request, object_id):
        if not request.user.has_perm("accounts.add_onboardingreview"):
            raise PermissionDenied
        organisation = get_object_or_404(Organisation, pk=object_id)
        form = OnboardingReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.onboarding_decide(
                    organisation=organisation,
                    approve=data["decision"] == "approve",
                    company_details_checked=data["company_details_checked"],
                    dpa_accepted=data["dpa_accepted"],
                    lawful_basis_reviewed=data["lawful_basis_reviewed"],
                    reason=data["reason"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"Decision recorded; {organisation} has been told by e-mail.", messages.SUCCESS)
                return redirect(reverse("admin:accounts_organisation_change", args=[organisation.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Onboarding review: {organisation}",
            "organisation": organisation,
            "form": form,
            "owners": selectors.team_of(organisation).filter(role=Role.OWNER),
            "acceptances": selectors.acceptances_of(organisation),
            "outstanding": selectors.outstanding_agreements(organisation),
            "reviews": organisation.onboarding_reviews.select_related("decided_by"),
        }
        return TemplateResponse(request, "admin/accounts/organisation/review.html", context)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organisation__legal_name")
    list_select_related = ("user", "organisation")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "role", "state", "invited_by", "created_at", "expires_at")
    search_fields = ("organisation__legal_name",)
    list_filter = ("role",)
    fields = (
        "organisation",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    readonly_fields = fields
    list_select_related = ("organisation", "invited_by")


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Key metadata only: the key is never stored, and its hash is never shown."""

    list_display = ("name", "prefix", "organisation", "scope", "state", "created_at", "expires_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("name", "prefix", "organisation__legal_name")
    fields = (
        "name",
        "prefix",
        "organisation",
        "scope",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields
    list_select_related = ("organisation",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(services.api_key_revoke(api_key=key, by=request.user, request=request) for key in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("document", "organisation", "user", "accepted_at")
    list_filter = ("document__kind", "document__version")
    search_fields = ("organisation__legal_name", "user__email")
    date_hierarchy = "accepted_at"
    fields = ("document", "organisation", "user", "accepted_at", "ip_address")
    readonly_fields = fields
    list_select_related = ("document", "organisation", "user")


@admin.register(OnboardingReview)
class OnboardingReviewAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "decision", "decided_by", "decided_at", "review_link")
    list_filter = ("decision",)
    search_fields = ("organisation__legal_name",)
    date_hierarchy = "decided_at"
    list_select_related = ("organisation", "decided_by")

    @admin.display(description="Review again")
    def review_link(self, obj):
        url = reverse("admin:accounts_organisation_review", args=[obj.organisation_id])
        return format_html('<a href="{}">Open review</a>', url)


class DeviceAdmin(admin.ModelAdmin):
    """Lists a person's second factors; deleting one (after checking who is asking)
    makes them enrol again at their next sign-in. Secrets are never shown."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    search_fields = ("user__email",)
    list_filter = ("confirmed",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self._audit(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._audit(request, list(queryset))
        super().delete_queryset(request, queryset)

    def _audit(self, request, devices):
        for device in devices:
            audit.record(
                events.SECOND_FACTOR_RESET_BY_STAFF,
                request=request,
                target=device.user,
                details={"device": device.persistent_id, "at": timezone.now()},
            )


if admin.site.is_registered(PlainTOTPDevice):
    admin.site.unregister(PlainTOTPDevice)  # django-otp's own admin shows the secret; its table is empty now anyway
admin.site.register(TOTPDevice, DeviceAdmin)


@admin.register(BackupCodeDevice)
class BackupCodeDeviceAdmin(DeviceAdmin):
    list_display = ("user", "remaining", "created_at", "last_used_at")
    fields = ("user", "remaining", "created_at", "last_used_at")
    readonly_fields = fields

    @admin.display(description="Codes left")
    def remaining(self, obj):
        return obj.remaining
