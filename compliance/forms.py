from django import forms
from django.core.exceptions import ValidationError

from nextsupport.identifiers import normalise_phone

from .models import RequestKind


class ContactForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your name."},
    )
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text="We reply to this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"required": "Enter your e-mail address.", "invalid": "Enter an e-mail address like name@example.com."},
    )
    subject = forms.CharField(
        label="Subject",
        max_length=150,
        error_messages={"required": "Enter a subject."},
    )
    message = forms.CharField(
        label="Your message",
        max_length=5000,
        help_text="Up to 5,000 characters. Please leave out anything we do not need to answer you, such as health details.",
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Enter your message."},
    )
    # Honeypot: hidden from people (and from assistive technology), filled in by bots.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_subject(self):
        # It becomes the subject line of our reply: a line break there would be a header of its own.
        subject = self.cleaned_data["subject"]
        if "\r" in subject or "\n" in subject:
            raise forms.ValidationError("Keep the subject on one line.")
        return subject

    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())


# --- Data-subject requests ---


class DataRequestForm(forms.Form):
    """The public request form at /your-rights/ (P35-P42): no account, no CAPTCHA."""

    kind = forms.ChoiceField(
        label="What would you like us to do?",
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what you would like us to do."},
    )
    phone = forms.CharField(
        label="Your phone number",
        required=False,
        max_length=32,
        help_text="The number we may have called, e.g. 07700 900123. We send a code to it by text message.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="Your e-mail address",
        required=False,
        max_length=254,
        help_text="We send a link to it to confirm it is yours, and tell you there when your request is done.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"invalid": "Enter an e-mail address like name@example.com."},
    )
    name = forms.CharField(
        label="Your name",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    details = forms.CharField(
        label="Anything we should know",
        required=False,
        max_length=5000,
        help_text="For a correction, say what is wrong and what it should be. Up to 5,000 characters.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    cookies = forms.BooleanField(
        label="Include the cookie choices made in this browser",
        required=False,
        initial=True,
        help_text="Our cookie banner keeps a record of your choices under an id only this browser holds.",
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_cookies_helptext"}),
    )
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except ValidationError:
            raise forms.ValidationError("Enter a phone number like 07700 900123, or +33 1 23 45 67 89 from abroad.") from None

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("phone") or data.get("email")):
            self.add_error("phone", "Give your phone number, your e-mail address or both, so we can find your data.")
        if data.get("kind") == RequestKind.RECTIFICATION and not data.get("details", "").strip():
            self.add_error("details", "Say what is wrong and what it should be, so we can correct it.")
        return data

    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label="The 6-digit code we sent you",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Enter the code from the e-mail or text message."},
    )


class PartAnswerForm(forms.Form):
    """A client's answer to a request forwarded to it (portal)."""

    answer = forms.ChoiceField(
        label="Your answer",
        choices=[
            ("done", "We have dealt with it ourselves"),
            ("refused", "We refuse it"),
            ("delegate", "Ask NextSupport to carry it out on our data"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose your answer."},
    )
    note = forms.CharField(
        label="Note to the requester",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you refuse: give the reason, which we pass on to the person.",
    )
