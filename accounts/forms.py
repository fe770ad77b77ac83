"""Forms of the sign-up and account pages. They validate and say what is wrong
and where; the writes happen in accounts.services."""

import datetime

from allauth.account import app_settings as allauth_settings
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from nextsupport.identifiers import normalise_email

from . import selectors, services, validators
from .models import APIKey, Invitation, Membership, Organisation, Role, User

# Set in the session by the invitation page, so that signing up joins that organisation.
INVITATION_SESSION_KEY = "accounts_invitation"


class StyledForm:
    """Renders with the site's accessible field layout (labels, hints and errors tied to inputs)."""

    template_name = "accounts/forms/div.html"


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form without its own "Forgot your password?" help text: the page has one such link."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""


def pending_invitation(request) -> Invitation | None:
    token = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    invitation = Invitation.from_token(token) if token else None
    return invitation if invitation is not None and invitation.is_open else None


def _agreement_label(document, on_behalf: bool) -> str:
    who = " on behalf of the organisation, and confirm I may bind it" if on_behalf else ""
    return f"I have read and accept the {document.get_kind_display()} (version {document.version}){who}."


class AgreementFieldsMixin:
    """Tick-boxes for the current Terms/DPA plus the versions shown, so a change
    published while someone reads is noticed instead of silently accepted."""

    def add_agreement_fields(self, documents, *, on_behalf: bool) -> None:
        self.agreements = list(documents)
        for document in self.agreements:
            self.fields[f"accept_{document.kind}"] = forms.BooleanField(
                label=_agreement_label(document, on_behalf),
                error_messages={"required": f"You need to accept the {document.get_kind_display()} to continue."},
            )
            self.fields[f"version_{document.kind}"] = forms.IntegerField(widget=forms.HiddenInput, initial=document.version)

    def clean_agreements(self) -> None:
        current = {d.kind: d.version for d in selectors.current_agreements()}
        for document in self.agreements:
            shown = self.cleaned_data.get(f"version_{document.kind}")
            if shown is not None and current.get(document.kind) != shown:
                raise forms.ValidationError(
                    f"The {document.get_kind_display()} was updated while you were reading it. "
                    "Please review the current version below."
                )


class SignupForm(StyledForm, AgreementFieldsMixin, AllauthSignupForm):
    """Creates the person and, unless they were invited, their organisation (which accepts the Terms and DPA)."""

    full_name = forms.CharField(max_length=150, label="Your full name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    organisation_name = forms.CharField(
        max_length=200,
        label="Organisation's legal name",
        help_text="As registered at Companies House, or your own name if you trade as a sole trader.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    company_number = forms.CharField(
        max_length=12,
        required=False,
        label="Company number (optional)",
        help_text="8 characters, e.g. 01234567 or SC123456. Leave empty if the business is not a registered company.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = getattr(context, "request", None)
        self.invitation = pending_invitation(request)
        self.fields["email"].label = "Work e-mail address"
        documents = selectors.current_agreements()
        if self.invitation is not None:
            # Joining an organisation that already accepted the DPA: only the Terms are personal.
            for name in ("organisation_name", "company_number"):
                del self.fields[name]
            documents = [d for d in documents if d.kind == "terms"]
            self.fields["email"].initial = self.invitation.email
            # The organisation's name is the client's own text: format_html escapes it.
            self.fields["email"].help_text = format_html("The address {} invited.", self.invitation.organisation)
        self.add_agreement_fields(documents, on_behalf=self.invitation is None)
        honeypot = self.fields.get(allauth_settings.SIGNUP_FORM_HONEYPOT_FIELD or "")
        if honeypot is not None:
            honeypot.honeypot = True  # rendered out of sight and out of the accessibility tree
        order = ["full_name", "organisation_name", "company_number", "email", "password1", "password2"]
        self.order_fields([*order, *(name for name in self.fields if name not in order)])

    def clean_company_number(self):
        return validators.normalise_company_number(self.cleaned_data.get("company_number", ""))

    def clean_email(self):
        email = super().clean_email()
        if self.invitation is not None and email and email != normalise_email(self.invitation.email):
            raise forms.ValidationError(
                "Use the address the invitation was sent to, or open the invitation link again after signing in."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        if len(selectors.current_agreements()) != len(selectors.CLIENT_AGREEMENTS):
            raise forms.ValidationError("Sign-up is unavailable for a moment: our agreements are being updated.")
        self.clean_agreements()
        return cleaned

    def save(self, request):
        # The person, their organisation and its acceptances exist together or not at all.
        with transaction.atomic():
            return super().save(request)

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
        if self.invitation is not None:
            services.agreements_accept(organisation=None, user=user, documents=self.agreements, request=request)
            services.invitation_accept(invitation=self.invitation, user=user, request=request)
            request.session.pop(INVITATION_SESSION_KEY, None)
        else:
            services.organisation_create(
                legal_name=self.cleaned_data["organisation_name"],
                company_number=self.cleaned_data["company_number"],
                owner=user,
                accepted=self.agreements,
                request=request,
            )


class OrganisationCreateForm(StyledForm, AgreementFieldsMixin, forms.Form):
    """A further organisation for someone already signed in (or after closing one)."""

    legal_name = forms.CharField(max_length=200, label="Organisation's legal name")
    company_number = forms.CharField(max_length=12, required=False, label="Company number (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_agreement_fields(selectors.current_agreements(), on_behalf=True)

    def clean_company_number(self):
        return validators.normalise_company_number(self.cleaned_data.get("company_number", ""))

    def clean(self):
        cleaned = super().clean()
        self.clean_agreements()
        return cleaned


class AgreementsForm(StyledForm, AgreementFieldsMixin, forms.Form):
    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_agreement_fields(documents, on_behalf=True)

    def clean(self):
        cleaned = super().clean()
        self.clean_agreements()
        return cleaned


class _Blankable:
    """Encrypted fields store None for 'nothing', never an empty string."""

    nullable: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.nullable:
            if name in cleaned and not cleaned[name]:
                cleaned[name] = None
        return cleaned


class OrganisationProfileForm(StyledForm, _Blankable, forms.ModelForm):
    nullable = ("business_address",)

    class Meta:
        model = Organisation
        fields = ["legal_name", "trading_name", "company_number", "business_address", "lawful_basis_statement"]
        labels = {"business_address": "Registered or trading address", "lawful_basis_statement": "Lawful-basis statement"}
        help_texts = {
            "trading_name": "The name people know you by, if it differs from the legal name. Our AI says it on calls.",
            "company_number": "8 characters, e.g. 01234567 or SC123456. Leave empty if not a registered company.",
            "lawful_basis_statement": "Tell our compliance team which lawful basis you rely on to call your contacts "
            "(consent, legitimate interests or contract) and how you obtained it. Changing it after approval "
            "sends the account back for review.",
        }
        widgets = {"business_address": forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"})}

    def clean_company_number(self):
        return validators.normalise_company_number(self.cleaned_data.get("company_number", ""))

    def clean_business_address(self):
        value = (self.cleaned_data.get("business_address") or "").strip()
        validators.reject_card_numbers(value)
        return value


class BillingForm(StyledForm, _Blankable, forms.ModelForm):
    nullable = ("billing_contact_name", "billing_email", "billing_phone", "billing_address")

    class Meta:
        model = Organisation
        fields = ["billing_contact_name", "billing_email", "billing_phone", "billing_address", "vat_number"]
        labels = {
            "billing_contact_name": "Billing contact",
            "billing_email": "Billing e-mail address",
            "billing_phone": "Billing phone number",
            "billing_address": "Invoice address",
            "vat_number": "VAT number (optional)",
        }
        help_texts = {
            "billing_email": "Invoices and usage statements go here.",
            "billing_address": "Leave empty to use the organisation's address.",
        }
        widgets = {
            "billing_address": forms.Textarea(attrs={"rows": 3}),
            "billing_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "billing_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def clean_vat_number(self):
        return validators.normalise_vat_number(self.cleaned_data.get("vat_number", ""))

    def clean(self):
        cleaned = super().clean()
        for name in ("billing_contact_name", "billing_address"):
            try:
                validators.reject_card_numbers(cleaned.get(name) or "")
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        return cleaned


# Ofcom and the DMA code: no marketing calls before 08:00 or after 21:00.
EARLIEST_CALL, LATEST_CALL = datetime.time(8, 0), datetime.time(21, 0)


class ServicePreferencesForm(StyledForm, forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "calling_hours_start",
            "calling_hours_end",
            "call_on_saturdays",
            "call_on_sundays",
            "record_calls_by_default",
            "statement_frequency",
        ]
        labels = {
            "calling_hours_start": "Calls start at",
            "calling_hours_end": "Calls end by",
            "call_on_saturdays": "Call on Saturdays",
            "call_on_sundays": "Call on Sundays",
            "record_calls_by_default": "Record calls by default in new campaigns",
            "statement_frequency": "Usage statements",
        }
        help_texts = {
            "calling_hours_start": "UK time, 24-hour clock. Not before 08:00.",
            "calling_hours_end": "Not after 21:00.",
            "record_calls_by_default": "Each campaign can still change this; people are always told at the start of a recorded call.",
        }
        widgets = {
            "calling_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "calling_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("calling_hours_start"), cleaned.get("calling_hours_end")
        if start and start < EARLIEST_CALL:
            self.add_error("calling_hours_start", "Calls cannot start before 08:00.")
        if end and end > LATEST_CALL:
            self.add_error("calling_hours_end", "Calls must end by 21:00.")
        if start and end and start >= end:
            self.add_error("calling_hours_end", "The end time must be after the start time.")
        return cleaned


class NotificationSettingsForm(StyledForm, forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["notify_service_updates", "notify_usage_statements"]
        labels = {
            "notify_service_updates": "Service updates",
            "notify_usage_statements": "Usage and billing statements",
        }


def _role_choices(by: Membership):
    return [(value, label) for value, label in Role.choices if value != Role.OWNER or by.role == Role.OWNER]


class InvitationForm(StyledForm, forms.Form):
    # No longer than a login address: an invitation nobody could sign up with is not worth sending.
    email = forms.EmailField(
        max_length=User._meta.get_field("email").max_length,
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, by: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(by)
        self.fields["role"].initial = Role.VIEWER


class RoleForm(StyledForm, forms.Form):
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, by: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(by)


class APIKeyForm(StyledForm, forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="What the key is for, e.g. 'CRM sync'.")
    scope = forms.ChoiceField(
        choices=APIKey.Scope.choices,
        initial=APIKey.Scope.READ_ONLY,
        label="Access",
        widget=forms.RadioSelect,
        help_text="Read and write lets the key upload contacts and edit and launch campaigns. "
        "No key can manage people, keys or the account, or download recordings.",
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at the end of this day. Leave empty for a key that lasts until revoked.",
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day.")
        if day == datetime.date.max:
            # The key stops at the start of the next day, and 31 December 9999 has none: it was a 500.
            raise forms.ValidationError("Choose an earlier day, or leave this empty for a key that lasts until revoked.")
        return day

    def expires_at(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time()))


class AuthenticatorForm(StyledForm, forms.Form):
    name = forms.CharField(
        max_length=64,
        initial="Authenticator app",
        label="Name for this authenticator",
        help_text="Helps you tell your devices apart, e.g. 'Work phone'.",
    )
    code = forms.CharField(
        max_length=6,
        min_length=6,
        label="6-digit code from the app",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError("Enter the 6 digits shown in your authenticator app.")
        return code


class SecondFactorForm(StyledForm, forms.Form):
    code = forms.CharField(
        max_length=20,
        label="Code",
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class CloseOrganisationForm(StyledForm, forms.Form):
    confirm_name = forms.CharField(max_length=200, label="Type the organisation's legal name to confirm")
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Why are you leaving? (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    understood = forms.BooleanField(
        label="I understand that access stops for everyone in the organisation, campaigns stop, and API keys stop working."
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_confirm_name(self):
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed.casefold() != " ".join(self.organisation.legal_name.split()).casefold():
            raise forms.ValidationError(f"Type {self.organisation.legal_name} exactly as shown.")
        return typed
