"""The campaigns part of the back office: every client's campaigns, calls, caller IDs and usage
statements, and the per-organisation cap on calls at once.

Everything is read-only except the cap, which staff set through
`services.calling_limit_set` (a reason required, audited). Calls are listed
without what was said: a transcript, the answers as heard and the recording
are the client's consumers' personal data. Staff with the "review_call"
permission open them from the call's page for quality assurance, giving a
reason first; each review, and each playback, is an audit event (P13).
"""

import json

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from nextsupport import audit
from nextsupport.identifiers import display_phone

from . import calls, events, playback, selectors, services
from .models import Call, CallerId, CallingLimit, Campaign, Recording, UsageStatement

REVIEW_PERMISSION = "campaigns.review_call"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "organisation",
        "purpose",
        "state",
        "pause_reason",
        "people",
        "dialled",
        "connected",
        "abandoned",
        "launched_at",
        "ended_at",
    )
    list_filter = ("state", "purpose", "record_calls", "automated_decisions")
    search_fields = ("name", "organisation__legal_name", "=id")
    list_select_related = ("organisation",)
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ("name", "organisation", "purpose", "lawful_basis", "state", "pause_reason", "slowed_at")}),
        ("Figures", {"fields": ("people", "dialled", "connected", "abandoned", "abandoned_rate", "gate_decisions")}),
        (
            "Settings",
            {
                "fields": (
                    "caller_id",
                    "transfer",
                    "timezone",
                    "calling_days",
                    "window_start",
                    "window_end",
                    "call_on_bank_holidays",
                    "start_date",
                    "end_date",
                    "max_attempts",
                    "retry_spacing_minutes",
                    "max_concurrent_calls",
                    "record_calls",
                    "script_version",
                )
            },
        ),
        (
            "Automated decisions (P16)",
            {
                "fields": (
                    "automated_decisions",
                    "automated_decisions_reason",
                    "automated_decisions_set_by",
                    "automated_decisions_set_at",
                )
            },
        ),
        ("History", {"fields": ("created_by", "created_at", "launched_at", "ended_at")}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _, section in self.fieldsets for name in section["fields"]]

    def get_queryset(self, request):
        # Distinct counts: the calls and contacts joins would otherwise multiply each other.
        return (
            super()
            .get_queryset(request)
            .annotate(
                people=Count("contacts", distinct=True),
                dialled=Count("calls", filter=~Q(calls__status=Call.Status.CANCELLED), distinct=True),
                connected=Count("calls", filter=Q(calls__answered_at__isnull=False), distinct=True),
                abandoned=Count("calls", filter=Q(calls__outcome=Call.Outcome.ABANDONED), distinct=True),
            )
        )

    @admin.display(description="People", ordering="people")
    def people(self, obj):
        return obj.people

    @admin.display(description="Dialled", ordering="dialled")
    def dialled(self, obj):
        return obj.dialled

    @admin.display(description="Connected", ordering="connected")
    def connected(self, obj):
        return obj.connected

    @admin.display(description="Abandoned", ordering="abandoned")
    def abandoned(self, obj):
        return obj.abandoned

    @admin.display(description="Abandoned-call rate, 24 h")
    def abandoned_rate(self, obj):
        rate = selectors.abandoned_rate(obj)
        return f"{rate.rate:.1%} ({rate.abandoned} abandoned, {rate.live} live, {rate.machines} machines)"

    @admin.display(description="Gate decisions")
    def gate_decisions(self, obj):
        counts = selectors.gate_counts(obj)
        return ", ".join(f"{decision}: {count}" for decision, count in sorted(counts.items())) or "None yet"

    @admin.display(description="Transfer number")
    def transfer(self, obj):
        return display_phone(obj.transfer_number) if obj.transfer_number else "-"


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    """What happened on each call, without what was said: that is opened on the review page, audited."""

    list_display = (
        "id",
        "campaign",
        "organisation",
        "status",
        "outcome",
        "attempt",
        "created_at",
        "duration_seconds",
        "answered_by",
        "first_audio_ms",
        "slow_first_audio",
    )
    list_filter = ("status", "outcome", "slow_first_audio", "records", "provider")
    search_fields = ("=id", "=provider_sid", "campaign__name", "organisation__legal_name")
    list_select_related = ("campaign", "organisation")
    date_hierarchy = "created_at"
    fields = (
        "organisation",
        "campaign",
        "attempt",
        "script_version",
        "gate_decision",
        "decided_at",
        "provider",
        "provider_sid",
        "status",
        "outcome",
        "failure_reason",
        "created_at",
        "dial_requested_at",
        "dialled_at",
        "answered_at",
        "first_audio_at",
        "first_audio_ms",
        "slow_first_audio",
        "ended_at",
        "duration_seconds",
        "answered_by",
        "records",
        "opted_out_at",
        "transferred_at",
        "last_event_at",
        "review",
    )
    readonly_fields = fields

    @admin.display(description="Transcript, answers and recording")
    def review(self, obj):
        url = reverse("admin:campaigns_call_review", args=[obj.pk])
        return format_html('<a href="{}">Review this call</a> (you give a reason first; the review is logged)', url)

    def get_urls(self):
        return [
            path("<int:call_id>/review/", self.admin_site.admin_view(self.review_view), name="campaigns_call_review"),
            path(
                "<int:call_id>/review/recording/<str:token>/",
                self.admin_site.admin_view(self.recording_view),
                name="campaigns_call_recording",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, call_id):
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        call = get_object_or_404(Call.objects.select_related("campaign", "organisation"), pk=call_id)
        form = ReviewForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "call": call, "form": form}
        context["title"] = f"Review call #{call.pk}"
        if request.method == "POST" and form.is_valid():
            audit.record(
                events.CALL_REVIEWED,
                request=request,
                target=call,
                reason=form.cleaned_data["reason"],
                details={"call": call.pk, "transcript": bool(call.transcript)},
            )
            context.update(_review_of(request, call))
        return TemplateResponse(request, "admin/campaigns/call/review.html", context)

    def recording_view(self, request, call_id, token):
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        recording = get_object_or_404(Recording, call_id=call_id)
        try:
            playback.check(token, recording_id=recording.pk, user_id=request.user.pk)
        except (playback.LinkExpired, playback.LinkRefused) as exc:
            raise PermissionDenied("Open the review again for a new link.") from exc
        try:
            audio = calls.recording_audio(recording=recording, request=request)
        except FileNotFoundError as exc:
            raise Http404("This recording is not available.") from exc
        response = HttpResponse(audio, content_type=recording.content_type or "audio/wav")
        response["Cache-Control"] = "no-store, private"
        return response


class ReviewForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need to read or hear this call, e.g. the client's support ticket. Kept in the audit trail.",
        error_messages={"required": "Say why you are reviewing this call: the reason is kept in the audit trail."},
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(self.fields["reason"].error_messages["required"])
        return reason


def _review_of(request, call: Call) -> dict:
    """What the review page shows once the reason is recorded."""
    recording = Recording.objects.filter(call=call, status=Recording.Status.STORED).first()
    token = playback.token_for(recording_id=recording.pk, user_id=request.user.pk) if recording else ""
    return {
        "reviewed": True,
        "transcript": json.loads(call.transcript) if call.transcript else [],
        "responses": call.responses.all(),
        "recording_url": reverse("admin:campaigns_call_recording", args=[call.pk, token]) if recording else "",
        "link_minutes": settings.PRIVATE_URL_EXPIRY_SECONDS // 60,
    }


@admin.register(CallerId)
class CallerIdAdmin(ReadOnlyAdmin):
    list_display = ("label", "organisation", "number_shown", "status", "provider", "requested_at", "verified_at")
    list_filter = ("status", "provider")
    search_fields = ("label", "organisation__legal_name")
    list_select_related = ("organisation",)
    fields = (
        "label",
        "organisation",
        "number_shown",
        "status",
        "failure_reason",
        "provider",
        "provider_reference",
        "requested_by",
        "requested_at",
        "verified_at",
    )
    readonly_fields = fields

    @admin.display(description="Number")
    def number_shown(self, obj):
        return display_phone(obj.number)


class CallingLimitForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this limit: kept with it and in the audit trail.",
    )

    class Meta:
        model = CallingLimit
        fields = ("organisation", "max_concurrent_calls", "reason")

    def clean(self):
        data = super().clean()
        if "max_concurrent_calls" in data:
            try:
                data["reason"] = services.calling_limit_checked(
                    max_concurrent_calls=data["max_concurrent_calls"], reason=data.get("reason", "")
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data


@admin.register(CallingLimit)
class CallingLimitAdmin(admin.ModelAdmin):
    """How many calls an organisation may have on the line at once, across its campaigns."""

    form = CallingLimitForm
    list_display = ("organisation", "max_concurrent_calls", "reason", "set_by", "updated_at")
    search_fields = ("organisation__legal_name",)
    list_select_related = ("organisation", "set_by")

    def get_readonly_fields(self, request, obj=None):
        return ("organisation", "set_by", "updated_at") if obj else ("set_by", "updated_at")

    def has_delete_permission(self, request, obj=None):
        return False  # a limit is changed, with a reason; never removed without one

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        default = settings.CAMPAIGN_ORGANISATION_MAX_CONCURRENT_CALLS
        extra = {"subtitle": f"Organisations without a limit here may have {default} calls at once.", **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is checked and audited like every other.
        limit = services.calling_limit_set(
            organisation=obj.organisation,
            max_concurrent_calls=form.cleaned_data["max_concurrent_calls"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
        obj.pk, obj.set_by, obj.updated_at = limit.pk, limit.set_by, limit.updated_at


@admin.register(UsageStatement)
class UsageStatementAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "period_start", "period_end", "calls_placed", "calls_connected", "connected_minutes")
    list_filter = ("period_start",)
    search_fields = ("organisation__legal_name",)
    list_select_related = ("organisation",)
    readonly_fields = (
        "organisation",
        "period_start",
        "period_end",
        "calls_placed",
        "calls_connected",
        "connected_minutes",
        "campaign_lines",
        "created_at",
    )
