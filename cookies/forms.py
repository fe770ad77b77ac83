from django import forms

from .models import OPTIONAL_CATEGORIES


class ConsentForm(forms.Form):
    """A choice posted by consent.js; errors come back to it field by field."""

    consent_id = forms.UUIDField(required=False)
    categories = forms.MultipleChoiceField(choices=[(c.value, c.label) for c in OPTIONAL_CATEGORIES], required=False)
    policy_version = forms.IntegerField(min_value=0)
    banner_version = forms.RegexField(regex=r"^[0-9a-f]{12}$", max_length=12)
    gpc = forms.BooleanField(required=False)
