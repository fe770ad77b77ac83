"""Personal data in the compliance admin stays masked until someone says why they need it.

    @admin.register(Enquiry)
    class EnquiryAdmin(MaskedPersonalDataAdmin):
        masked_fields = ("name", "email", "subject", "message")

List views always show the masked form of those fields. An object's page shows them
masked, read-only, with a "Reveal personal data" button; revealing asks for the
reason, records who revealed which fields of which object and why in the audit trail
(personal_data.revealed), and shows the values to that person for REVEAL_MINUTES.
Revealing needs the permission to view the object; nothing else changes with it.
"""

import time

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from nextsupport import audit

REVEAL_MINUTES = 10
_SESSION_KEY = "compliance_revealed"
MASK = "•••••"


def mask(value) -> str:
    """A stand-in that shows something is there (and roughly what kind) without showing it."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if "@" in text:
        return f"{text[0]}{MASK}@{MASK}"
    return f"{text[0]}{MASK}" if len(text) > 3 else MASK


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to see it?",
        max_length=300,
        help_text="Kept in the audit trail with your name, e.g. “answering the enquiry”, “data-subject request 42”.",
        widget=forms.TextInput(attrs={"size": 60}),
        error_messages={"required": "Say why you need to see this personal data."},
    )


class MaskedPersonalDataAdmin(admin.ModelAdmin):
    masked_fields: tuple[str, ...] = ()
    change_form_template = "admin/compliance/masked_change_form.html"

    # --- Masked forms of the declared fields ---

    def _masked_name(self, name: str) -> str:
        return f"masked_{name}"

    def __getattr__(self, attr):
        # masked_<field> is a read-only display of the field's masked form, for lists and pages.
        if attr.startswith("masked_") and attr.removeprefix("masked_") in type(self).masked_fields:
            name = attr.removeprefix("masked_")
            label = self.model._meta.get_field(name).verbose_name

            def display(obj):
                return mask(getattr(obj, name))

            display.short_description = f"{label} (masked)"
            return display
        raise AttributeError(attr)

    def get_list_display(self, request):
        return [self._masked_name(f) if f in self.masked_fields else f for f in super().get_list_display(request)]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and self.is_revealed(request, obj):
            return fields
        return [self._masked_name(f) if f in self.masked_fields else f for f in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None or self.is_revealed(request, obj):
            return readonly
        return [*(r for r in readonly if r not in self.masked_fields), *map(self._masked_name, self.masked_fields)]

    # --- Revealing ---

    def _session_key(self, obj) -> str:
        return f"{obj._meta.label_lower}:{obj.pk}"

    def is_revealed(self, request, obj) -> bool:
        until = request.session.get(_SESSION_KEY, {}).get(self._session_key(obj))
        return bool(until and until > time.time())

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        reveal = path("<path:object_id>/reveal/", self.admin_site.admin_view(self.reveal_view), name="{}_{}_reveal".format(*info))
        return [reveal, *super().get_urls()]

    def reveal_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("No such record.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        form = RevealForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.reveal(request, obj, form.cleaned_data["reason"])
            self.message_user(
                request, f"Shown to you for {REVEAL_MINUTES} minutes. Your reason is in the audit trail.", messages.INFO
            )
            info = self.model._meta.app_label, self.model._meta.model_name
            return redirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk], current_app=self.admin_site.name))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reveal the personal data of {obj}",
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "fields": [self.model._meta.get_field(f).verbose_name for f in self.masked_fields],
            "minutes": REVEAL_MINUTES,
        }
        return TemplateResponse(request, "admin/compliance/reveal.html", context, status=400 if form.errors else 200)

    def reveal(self, request, obj, reason: str) -> None:
        """Record the reveal, then show the fields to this person for a while."""
        audit.record(
            audit.PERSONAL_DATA_REVEALED,
            request=request,
            target=obj,
            reason=reason,
            details={"fields": list(self.masked_fields), "via": "admin"},
        )
        revealed = {k: v for k, v in request.session.get(_SESSION_KEY, {}).items() if v > time.time()}
        revealed[self._session_key(obj)] = time.time() + REVEAL_MINUTES * 60
        request.session[_SESSION_KEY] = revealed

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["masked"] = bool(obj is not None and self.masked_fields and not self.is_revealed(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)
