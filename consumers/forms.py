from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from nextsupport.identifiers import InvalidEmail, InvalidPhoneNumber, normalise_email, normalise_phone

from .models import ConsentRecord, ContactList, LawfulBasisAttestation, SuppressionReason
from .rows import CONSENT_TARGETS, Target, is_special_category

_MAX_MB = settings.CONTACT_IMPORT_MAX_BYTES // 1_000_000


class PhoneField(forms.CharField):
    """A phone number in any usual spelling; cleans to E.164."""

    widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "spellcheck": "false"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return normalise_phone(value)
        except InvalidPhoneNumber as exc:
            raise ValidationError(
                "Enter a full UK phone number, like 07911 123456 or 020 7946 0123, or an international number starting with +.",
                code=exc.code,
            ) from exc


class CsvFileField(forms.FileField):
    widget = forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"})

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "CSV file")
        kwargs.setdefault(
            "help_text",
            f"Up to {_MAX_MB} MB. Comma, semicolon or tab separated; UTF-8, UTF-16 or Windows-1252; the first row holds the column names.",
        )
        super().__init__(**kwargs)


class ListUploadForm(forms.Form):
    name = forms.CharField(label="List name", max_length=120, help_text="For example: Boiler service customers, May 2026.")
    purpose = forms.ChoiceField(
        label="What will these people be called for?",
        choices=ContactList.Purpose.choices,
        widget=forms.RadioSelect,
        help_text="Marketing lists need each person's consent and are screened against the TPS and CTPS.",
    )
    file = CsvFileField()


class FileUploadForm(forms.Form):
    file = CsvFileField()


class AttestationForm(forms.Form):
    basis = forms.ChoiceField(
        label="Lawful basis for calling these people",
        choices=LawfulBasisAttestation.Basis.choices,
        widget=forms.RadioSelect,
    )
    wording = forms.CharField(
        label="Why you may have them called, in your own words",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="We keep this statement, your name and the time as the record of your attestation.",
    )
    confirm = forms.BooleanField(
        label="I confirm that this is true, and that the list holds nobody under 16.",
        error_messages={"required": "Confirm the statement to continue."},
    )


class MappingForm(forms.Form):
    """One choice per column of the file, plus (when still missing) the attestation and the consent evidence."""

    def __init__(self, *args, job, suggested: dict[str, str], needs_attestation: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        marketing = job.contact_list.is_marketing
        choices = [("", "Don't import")] + [(t.value, t.label) for t in Target if marketing or t not in CONSENT_TARGETS]
        self.column_fields = []
        for index, column in enumerate(job.columns):
            if is_special_category(column):
                continue
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=f"Column {index + 1}: {column}", choices=choices, required=False, initial=suggested.get(str(index), "")
            )
            self.column_fields.append((index, name))
        self.fields["clear_empty"] = forms.BooleanField(
            label="Clear details left empty in this file",
            required=False,
            help_text="For people already on your lists: an empty cell in an imported column removes that detail "
            "(for example an e-mail address they asked you to delete). Without this, empty cells change nothing.",
        )
        if needs_attestation:
            attestation = AttestationForm()
            for name in ("basis", "wording", "confirm"):
                self.fields[f"attest_{name}"] = attestation.fields[name]
        if marketing:
            self.fields["consent_purposes"] = forms.MultipleChoiceField(
                label="The people in this list consented to",
                choices=ConsentRecord.Purpose.choices,
                widget=forms.CheckboxSelectMultiple,
                initial=ConsentRecord.Purpose.values,
            )
            self.fields["consent_wording"] = forms.CharField(
                label="The consent wording they agreed to",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields["consent_wording_version"] = forms.CharField(
                label="Or its version in your CRM",
                max_length=64,
                required=False,
                help_text="Give the wording, its version, or both.",
            )

    def mapping(self) -> dict[str, str]:
        return {str(index): self.cleaned_data[name] for index, name in self.column_fields if self.cleaned_data.get(name)}


class ConsumerSearchForm(forms.Form):
    phone = PhoneField(label="Phone number", required=False)
    email = forms.CharField(
        label="Or e-mail address", required=False, max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        if email:
            try:
                return normalise_email(email)
            except InvalidEmail as exc:
                raise ValidationError("Enter an e-mail address like name@example.co.uk.") from exc
        return email

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("phone") and not data.get("email"):
            raise ValidationError("Enter a phone number or an e-mail address to search for.")
        return data


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label="Consent to", choices=ConsentRecord.Purpose.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label="How the person gave it", choices=ConsentRecord.Method.choices)
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )
    wording = forms.CharField(label="The wording they agreed to", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    wording_version = forms.CharField(label="Or the version of your consent text", max_length=64, required=False)
    source_reference = forms.CharField(
        label="Reference (optional)", max_length=200, required=False, help_text="A CRM record, web form or paper form reference."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class WithdrawConsentForm(forms.Form):
    purpose = forms.ChoiceField(label="Withdraw consent to", choices=ConsentRecord.Purpose.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(
        label="How the person told you", choices=ConsentRecord.Method.choices, initial=ConsentRecord.Method.VERBAL
    )


class ObjectionForm(forms.Form):
    reason = forms.ChoiceField(
        label="What the person asked",
        choices=[
            (SuppressionReason.OPT_OUT, "Not to be called again (opt-out)"),
            (SuppressionReason.OBJECTION, "Objected to our use of their data (objection)"),
        ],
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label="How they told you", choices=ConsentRecord.Method.choices, initial=ConsentRecord.Method.VERBAL
    )


class ConsumerCorrectionForm(forms.Form):
    """P36: the client corrects a consumer's details; a field left empty is cleared."""

    name = forms.CharField(label="Name", max_length=200, required=False)
    email = forms.EmailField(label="E-mail", max_length=254, required=False)
    date_of_birth = forms.DateField(
        label="Date of birth", required=False, help_text="For example 21/04/1980.", input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )
    postcode = forms.CharField(label="Postcode", max_length=8, required=False)
    timezone = forms.CharField(label="Time zone", max_length=64, required=False, help_text="For example Europe/London.")

    @classmethod
    def for_consumer(cls, consumer, data=None):
        initial = {name: getattr(consumer, name) for name in cls.base_fields}
        return cls(data, initial=initial)

    def changes(self) -> dict:
        """Only the fields whose value differs from the record's."""
        return {name: value for name, value in self.cleaned_data.items() if name in self.changed_data}


class RestrictionForm(forms.Form):
    reason = forms.CharField(
        label="Reason (kept with this person's record while the restriction lasts)",
        max_length=300,
        required=False,
        help_text="For example: the person disputes the accuracy of the data.",
    )


class SuppressionForm(forms.Form):
    phone = PhoneField(label="Phone number")
    reason = forms.ChoiceField(
        label="Why",
        choices=[
            (SuppressionReason.OPT_OUT, SuppressionReason.OPT_OUT.label),
            (SuppressionReason.OBJECTION, SuppressionReason.OBJECTION.label),
            (SuppressionReason.CLIENT_REQUEST, "Our own decision not to call"),
        ],
    )


class PhoneCheckForm(forms.Form):
    phone = PhoneField(label="Phone number")


class StopCallsForm(forms.Form):
    phone = PhoneField(
        label="Your phone number",
        help_text="The number we called, or might call. For example 07911 123456 or 020 7946 0123.",
    )
