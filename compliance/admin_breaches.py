"""The breach register in the admin (P44-P47): every change goes through compliance.breaches.

The breach's page shows its clocks (each step, when it is due, whether it is overdue),
a form per step, the corrective actions, the ICO report (JSON or CSV) and the timeline.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from accounts.models import Organisation
from nextsupport import audit
from nextsupport.exports import csv_response

from . import breaches, events, selectors
from .admin_masking import MaskedPersonalDataAdmin
from .models import Breach, BreachAction, RiskLevel

STATE_LABELS = {
    breaches.State.DONE: "Done on time",
    breaches.State.DONE_LATE: "Done late",
    breaches.State.DUE: "Due",
    breaches.State.OVERDUE: "OVERDUE",
}


def _when(at) -> str:
    return date_format(localtime(at), "DATETIME_FORMAT") if at else "—"


class BreachForm(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        choices=list(breaches.ICO_DATA_CATEGORIES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    people_categories = forms.MultipleChoiceField(
        choices=list(breaches.ICO_PEOPLE_CATEGORIES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    affected_clients = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.order_by("legal_name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The clients whose data is involved. Each must be told within 72 hours.",
    )

    class Meta:
        model = Breach
        fields = breaches.EDITABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["affected_clients"].initial = list(self.instance.client_notices.values_list("organisation_id", flat=True))


class AssessForm(forms.Form):
    risk_level = forms.ChoiceField(choices=[c for c in RiskLevel.choices if c[0] != RiskLevel.UNASSESSED])
    assessment = forms.CharField(widget=forms.Textarea, help_text="The scope, and why this risk level.")


class IcoNotifiedForm(forms.Form):
    ico_reference = forms.CharField(max_length=60, label="ICO case reference")
    notified_at = forms.DateTimeField(required=False, help_text="When it was reported (empty: now).")
    delay_reason = forms.CharField(widget=forms.Textarea, required=False, help_text="Required after 72 hours.")


class IcoNotRequiredForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Why it is unlikely to result in a risk to anyone.")


class NotifyClientsForm(forms.Form):
    subject = forms.CharField(max_length=150, initial="A personal data breach involving your data")
    body = forms.CharField(widget=forms.Textarea, help_text="What happened, what data, what we are doing, who to contact.")


class InformIndividualsForm(forms.Form):
    how = forms.CharField(max_length=200, help_text="e.g. e-mail to each person; letter; the client told them.")
    guidance = forms.CharField(widget=forms.Textarea, help_text="What they can do to protect themselves.")
    informed_at = forms.DateTimeField(required=False, help_text="When (empty: now).")


STEP_FORMS = {
    "assess": (AssessForm, "Assess the scope and the risk"),
    "ico-notified": (IcoNotifiedForm, "Record the report to the ICO"),
    "ico-not-required": (IcoNotRequiredForm, "Record that the ICO need not be told"),
    "notify-clients": (NotifyClientsForm, "Tell the affected clients"),
    "inform-individuals": (InformIndividualsForm, "Record that the people affected were told"),
}


def _apply_step(name: str, breach: Breach, data: dict, request):
    actor = request.user
    if name == "assess":
        return breaches.breach_assess(breach=breach, actor=actor, request=request, **data)
    if name == "ico-notified":
        return breaches.breach_ico_notified(breach=breach, actor=actor, request=request, **data)
    if name == "ico-not-required":
        return breaches.breach_ico_not_required(breach=breach, actor=actor, request=request, **data)
    if name == "notify-clients":
        return breaches.breach_notify_clients(breach=breach, actor=actor, request=request, **data)
    return breaches.breach_inform_individuals(breach=breach, actor=actor, request=request, **data)


class BreachActionInline(admin.TabularInline):
    """Containment and corrective actions (P47). Added and completed through the service on save."""

    model = BreachAction
    extra = 1
    fields = ("kind", "description", "owner", "due_on", "state", "outcome", "mark_done")
    readonly_fields = ("state",)

    class form(forms.ModelForm):
        mark_done = forms.BooleanField(required=False, label="Done", help_text="Record the outcome first.")

        class Meta:
            model = BreachAction
            fields = ("kind", "description", "owner", "due_on", "outcome")

    @admin.display(description="State")
    def state(self, obj):
        if obj.pk is None:
            return "—"
        return f"Done {_when(obj.done_at)}" if obj.done_at else f"Open, due {date_format(obj.due_on)}"

    def has_delete_permission(self, request, obj=None):
        return False  # an action, once recorded, is part of the record

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Breach)
class BreachAdmin(MaskedPersonalDataAdmin):
    masked_fields = ("reported_by", "reporter_email")
    form = BreachForm
    inlines = [BreachActionInline]
    list_display = ("reference", "title", "aware_at", "risk_level", "next_step", "closed_at")
    list_filter = ("risk_level", ("closed_at", admin.EmptyFieldListFilter))
    search_fields = ("reference", "title")
    date_hierarchy = "aware_at"
    actions = ("close",)
    fieldsets = (
        (
            "What happened",
            {"fields": ("title", "occurred_at", "occurred_until", "aware_at", "description", "discovered_how", "cyber_incident")},
        ),
        ("Who reported it", {"fields": ("reported_by", "reporter_email")}),
        (
            "Scope",
            {
                "fields": (
                    "data_categories",
                    "data_categories_detail",
                    "approx_records",
                    "people_categories",
                    "people_categories_detail",
                    "approx_people",
                    "affected_clients",
                    "likely_consequences",
                    "staff_trained",
                    "others_told",
                )
            },
        ),
        ("Clocks and steps", {"fields": ("clocks", "step_links", "exports")}),
        ("Timeline", {"fields": ("timeline",)}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets[:3]
        fieldsets = super().get_fieldsets(request, obj)
        if not self.is_revealed(request, obj):
            fieldsets = [
                (name, {**opts, "fields": [f"masked_{f}" if f in self.masked_fields else f for f in opts["fields"]]})
                for name, opts in fieldsets
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        extra = ("clocks", "step_links", "exports", "timeline")
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.closed_at:
            return (*readonly, *extra, *breaches.EDITABLE, "affected_clients")
        return (*readonly, *extra)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("client_notices", "actions")

    @admin.display(description="Next step")
    def next_step(self, obj):
        open_steps = sorted((s for s in breaches.steps(obj) if s.is_open()), key=lambda s: s.due_at)
        if obj.closed_at or not open_steps:
            return "—"
        step = open_steps[0]
        if step.state() == breaches.State.OVERDUE:
            return format_html('<strong class="errornote">OVERDUE: {} (was due {})</strong>', step.label, _when(step.due_at))
        return f"{step.label}, due {_when(step.due_at)}"

    @admin.display(description="Clocks (from when we became aware)")
    def clocks(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (s.label, _when(s.due_at), _when(s.done_at), format_html("<strong>{}</strong>", STATE_LABELS[s.state()]))
                for s in breaches.steps(obj)
            ),
        )
        return format_html("<table><tr><th>Step</th><th>Due</th><th>Done</th><th>State</th></tr>{}</table>", rows)

    @admin.display(description="Record a step")
    def step_links(self, obj):
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((reverse("admin:{}_{}_step".format(*info), args=[obj.pk, name]), label) for name, (_f, label) in STEP_FORMS.items()),
        )

    @admin.display(description="The ICO's breach report")
    def exports(self, obj):
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html(
            '<a href="{}">Download as JSON</a> · <a href="{}">Download as CSV</a>',
            reverse("admin:{}_{}_ico_report".format(*info), args=[obj.pk, "json"]),
            reverse("admin:{}_{}_ico_report".format(*info), args=[obj.pk, "csv"]),
        )

    @admin.display(description="Every step, in order")
    def timeline(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((_when(e.at), e.what, e.who) for e in selectors.breach_timeline(obj)),
        )
        return format_html("<table><tr><th>When</th><th>What</th><th>Who</th></tr>{}</table>", rows)

    # --- Saving goes through the services ---

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in breaches.EDITABLE if name in form.cleaned_data}
        if change:
            breaches.breach_update(breach=obj, changes=data, actor=request.user, request=request)
        else:
            created = breaches.breach_record(actor=request.user, request=request, **data)
            obj.pk, obj.reference, obj._state.adding = created.pk, created.reference, False
        if "affected_clients" in form.cleaned_data:
            breaches.breach_set_affected_clients(
                breach=obj, organisations=form.cleaned_data["affected_clients"], actor=request.user, request=request
            )

    def save_form(self, request, form, change):
        # Unsaved: save_model writes through the service (the form's own save() would write directly).
        obj = form.save(commit=False)
        if change:
            obj.refresh_from_db()  # changes are applied by breach_update, which names them in the audit trail
        return obj

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self._save_actions(request, form.instance, formset)
            # The change message reads these; the service did the writing, never formset.save().
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _save_actions(self, request, breach, formset):
        for action_form in formset.forms:
            data = getattr(action_form, "cleaned_data", None) or {}
            if action_form.instance.pk is None:
                if action_form.has_changed() and data.get("description"):
                    breaches.breach_action_add(
                        breach=breach,
                        kind=data["kind"],
                        description=data["description"],
                        owner=data["owner"],
                        due_on=data["due_on"],
                        actor=request.user,
                        request=request,
                    )
            elif set(action_form.changed_data) - {"outcome", "mark_done"}:
                self.message_user(
                    request,
                    f"“{action_form.instance}” was not changed: an action's kind, description, owner and due date are "
                    "fixed once recorded. Add a new action instead.",
                    messages.ERROR,
                )
            elif data.get("mark_done"):
                try:
                    breaches.breach_action_done(
                        action=action_form.instance, outcome=data.get("outcome", ""), actor=request.user, request=request
                    )
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False  # the register is a legal record (Art. 33(5)): breaches are closed, never deleted

    # --- Step forms and exports ---

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/step/<slug:name>/", wrap(self.step_view), name="{}_{}_step".format(*info)),
            path("<int:object_id>/ico-report.<str:fmt>", wrap(self.ico_report_view), name="{}_{}_ico_report".format(*info)),
            *super().get_urls(),
        ]

    def _breach(self, request, object_id, *, change: bool) -> Breach:
        breach = self.get_object(request, str(object_id))
        if breach is None:
            raise Http404("No such breach.")
        allowed = self.has_change_permission(request, breach) if change else self.has_view_permission(request, breach)
        if not allowed:
            raise PermissionDenied
        return breach

    def step_view(self, request, object_id, name):
        if name not in STEP_FORMS:
            raise Http404("No such step.")
        breach = self._breach(request, object_id, change=True)
        form_class, title = STEP_FORMS[name]
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _apply_step(name, breach, {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}, request)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(request, f"{breach.reference}: {title.lower()}: recorded.")
                return redirect(reverse("admin:compliance_breach_change", args=[breach.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{breach.reference}: {title}",
            "opts": self.model._meta,
            "original": breach,
            "form": form,
        }
        return TemplateResponse(request, "admin/compliance/breach_step.html", context, status=400 if form.errors else 200)

    def ico_report_view(self, request, object_id, fmt):
        breach = self._breach(request, object_id, change=False)
        if fmt not in ("json", "csv"):
            raise Http404("The ICO report downloads as .json or .csv.")
        audit.record(events.BREACH_EXPORTED, request=request, target=breach, details={"format": fmt})
        filename = f"{breach.reference}-ico-report.{fmt}"
        if fmt == "csv":
            return csv_response(filename, ["Question", "Answer"], breaches.ico_report_rows(breach))
        response = HttpResponse(json.dumps(breaches.ico_report(breach), indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="Close the selected breaches (every step must be done)", permissions=["change"])
    def close(self, request, queryset):
        for breach in queryset:
            try:
                breaches.breach_close(breach=breach, actor=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, f"{breach.reference} closed.")


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
