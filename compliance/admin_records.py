"""Records and evidence in the admin: the record of processing (P01, P17), sub-processors (P20, P23),
disclosures to authorities (P21), staff training (P27) and the compliance dashboard."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from nextsupport.exports import csv_response

from . import records, selectors
from .admin_masking import MaskedPersonalDataAdmin
from .models import Disclosure, ProcessingActivity, SubProcessor, TrainingRecord


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(admin.ModelAdmin):
    """The part of the record of processing the registry cannot know: purpose, basis, recipients."""

    list_display = ("category", "lawful_basis", "transfer_safeguard", "updated_at")
    list_filter = ("lawful_basis", "transfer_safeguard")
    change_list_template = "admin/compliance/processingactivity/change_list.html"

    def save_model(self, request, obj, form, change):
        records.processing_activity_save(activity=obj, actor=request.user, changed=form.changed_data, request=request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("record/", wrap(self.record_view), name="compliance_records_of_processing"),
            path("record.csv", wrap(self.record_csv), name="compliance_records_of_processing_csv"),
            *super().get_urls(),
        ]

    def _allowed(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    def record_view(self, request):
        self._allowed(request)
        rows = records.records_of_processing()
        context = {
            **self.admin_site.each_context(request),
            "title": "Record of processing activities",
            "opts": self.model._meta,
            "rows": rows,
            "missing": [r for r in rows if r.missing],
        }
        return TemplateResponse(request, "admin/compliance/records_of_processing.html", context)

    def record_csv(self, request):
        self._allowed(request)
        rows = records.records_of_processing()
        records.ropa_exported(request=request, rows=len(rows))
        return csv_response("records-of-processing.csv", records.ROPA_HEADER, records.ropa_rows(rows))


@admin.register(SubProcessor)
class SubProcessorAdmin(admin.ModelAdmin):
    list_display = ("name", "service", "in_use", "location", "transfer_safeguard", "dpa_status", "dpa_signed_on")
    list_filter = ("transfer_safeguard", "dpa_status")
    search_fields = ("name", "service")

    @admin.display(description="In use by this configuration", boolean=True)
    def in_use(self, obj):
        return obj.service in {s.service for s in records.services_in_use()} or obj.service not in records.derivable_services()

    def changelist_view(self, request, extra_context=None):
        for missing in records.unregistered_services():
            self.message_user(
                request,
                f"The configuration uses {missing.role} ({missing.detail}), which is not in this register: add it with "
                f"service “{missing.service}”. The public page lists it as undisclosed until you do.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        records.subprocessor_save(processor=obj, actor=request.user, changed=form.changed_data, request=request)

    def delete_model(self, request, obj):
        records.subprocessor_remove(processor=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                records.subprocessor_remove(processor=obj, actor=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("disclose", "Approve: the data was handed over"), ("refuse", "Refuse")], widget=forms.RadioSelect
    )
    note = forms.CharField(widget=forms.Textarea, help_text="What was checked, and what was (or was not) handed over.")


@admin.register(Disclosure)
class DisclosureAdmin(MaskedPersonalDataAdmin):
    """Disclosures to regulators and law enforcement (P21): who asked, on what basis, what, when, who approved."""

    masked_fields = ("requester_contact", "data_disclosed")
    list_display = ("__str__", "authority", "authority_reference", "requested_at", "status", "disclosed_at", "approved_by")
    list_filter = ("status",)
    search_fields = ("authority", "authority_reference")
    fields = (
        "authority",
        "requester_contact",
        "authority_reference",
        "legal_basis",
        "requested_at",
        "data_disclosed",
        "decision",
    )
    readonly_fields = ("decision",)

    @admin.display(description="Decision")
    def decision(self, obj):
        from django.utils.html import format_html

        if obj.pk is None:
            return "Recorded once the request is saved."
        if obj.status == Disclosure.Status.REQUESTED:
            return format_html('<a href="{}">Approve or refuse</a>', reverse("admin:compliance_disclosure_decide", args=[obj.pk]))
        who = obj.approved_by.email if obj.approved_by else "—"
        return f"{obj.get_status_display()} by {who}: {obj.decision_note}"

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status != Disclosure.Status.REQUESTED:
            return (
                *readonly,
                "authority",
                "requester_contact",
                "authority_reference",
                "legal_basis",
                "requested_at",
                "data_disclosed",
            )
        return readonly

    def has_delete_permission(self, request, obj=None):
        return False  # evidence of what left us and why

    def save_model(self, request, obj, form, change):
        records.disclosure_record(disclosure=obj, actor=request.user, request=request)

    def get_urls(self):
        view = self.admin_site.admin_view(self.decide_view)
        return [path("<int:object_id>/decide/", view, name="compliance_disclosure_decide"), *super().get_urls()]

    def decide_view(self, request, object_id):
        disclosure = self.get_object(request, str(object_id))
        if disclosure is None:
            raise Http404("No such disclosure.")
        if not request.user.has_perm("compliance.approve_disclosure"):
            raise PermissionDenied
        form = DecideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                records.disclosure_decide(
                    disclosure=disclosure,
                    disclose=form.cleaned_data["decision"] == "disclose",
                    note=form.cleaned_data["note"],
                    actor=request.user,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, f"{disclosure}: decision recorded.")
                return redirect(reverse("admin:compliance_disclosure_change", args=[disclosure.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide: {disclosure}",
            "opts": self.model._meta,
            "original": disclosure,
            "form": form,
        }
        return TemplateResponse(request, "admin/compliance/breach_step.html", context, status=400 if form.errors else 200)


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    list_display = ("staff_user", "course", "completed_on", "recorded_by")
    list_filter = ("course", "completed_on")
    search_fields = ("staff_user__email", "course")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff_user":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        records.training_record(record=obj, actor=request.user, request=request)

    def has_change_permission(self, request, obj=None):
        return False  # a record of training done: a correction is a new record

    def has_delete_permission(self, request, obj=None):
        return False


# --- The compliance dashboard -------------------------------------------------------------------


def dashboard(request):
    """What needs doing: breach steps and data-subject requests due or overdue, open disclosures, training out of date.

    Served through admin.site.admin_view (staff, second factor); each section only for those who may see it.
    """
    can = request.user.has_perm
    context = {
        **admin.site.each_context(request),
        "title": "Compliance dashboard",
        "breach_steps": selectors.breach_steps_open() if can("compliance.view_breach") else None,
        "requests_overdue": selectors.requests_overdue() if can("compliance.view_datasubjectrequest") else None,
        "requests_due_soon": selectors.requests_due_soon() if can("compliance.view_datasubjectrequest") else None,
        "disclosures": records.open_disclosures() if can("compliance.view_disclosure") else None,
        "training_overdue": records.staff_training_overdue() if can("compliance.view_trainingrecord") else None,
        "unregistered": records.unregistered_services() if can("compliance.view_subprocessor") else None,
        "categories_missing": records.categories_without_record() if can("compliance.view_processingactivity") else None,
    }
    return TemplateResponse(request, "admin/compliance/dashboard.html", context)
