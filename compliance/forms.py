from django import forms


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
