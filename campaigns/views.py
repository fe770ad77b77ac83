"""Portal pages for campaigns, their scripts, results, calls and recordings, caller IDs and usage statements.

Every view starts from `request.organisation` (set by accounts.access): a
campaign, call, caller ID or statement of another organisation is a 404, like
one that does not exist (P04). Writes go through `campaigns.services` (the API
calls the same ones); what a member sees of the people called is decided in
`campaigns.visibility`.
"""

import copy
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import organisation_view
from accounts.models import Capability
from nextsupport import audit
from nextsupport.exports import csv_response

from . import calls, charts, playback, selectors, services
from .forms import AutomatedDecisionsForm, CallerIdForm, CampaignForm, ResultsFilterForm, ScriptEditor, blank_script, initial_for
from .models import Call, CallerId, Campaign, GateReason, Recording, ScriptVersion, UsageStatement
from .visibility import Visibility

CALLS_PER_PAGE = 50
# What providers store recordings as (the simulator WAV, Twilio WAV or MP3), for the file name a download gets.
AUDIO_EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3"}
# The page polls its figures while calls may still change them.
LIVE_STATES = (Campaign.State.SCHEDULED, Campaign.State.RUNNING, Campaign.State.PAUSED)


# The portal finds rows only through these: P04.
def campaign_of(request, campaign_id) -> Campaign:
    return get_object_or_404(selectors.campaigns_for(request.organisation), pk=campaign_id)


def caller_id_of(request, caller_id) -> CallerId:
    return get_object_or_404(selectors.caller_ids_for(request.organisation), pk=caller_id)


def _can(request, capability) -> bool:
    return request.membership.can(capability)


def _require(request, capability) -> None:
    if not _can(request, capability):
        raise PermissionDenied(f"Your role ({request.membership.get_role_display()}) does not allow this.")


def _apply_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the fields it names, otherwise above them."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"campaigns/{template}", {"section": "campaigns", **context}, status=status)


# --- Campaigns -----------------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def campaign_list(request):
    campaigns = list(selectors.campaigns_for(request.organisation))
    figures = selectors.campaign_figures(campaigns)
    context = {"rows": [(c, figures[c.pk]) for c in campaigns], "can_edit": _can(request, Capability.EDIT_CAMPAIGNS)}
    return _page(request, "list.html", context)


@organisation_view(capability=Capability.EDIT_CAMPAIGNS)
def campaign_new(request):
    form = CampaignForm(request.POST or None, organisation=request.organisation, initial=initial_for(None))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                organisation=request.organisation,
                by=request.user,
                request=request,
                contact_lists=form.cleaned_data["contact_lists"],
                **form.settings(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"“{campaign.name}” is saved as a draft. Next, write what the calls will say.")
            return redirect("campaigns:script", request.organisation.pk, campaign.pk)
    return _page(request, "campaign_form.html", {"form": form, "campaign": None})


@organisation_view(capability=Capability.EDIT_CAMPAIGNS)
def campaign_edit(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    if campaign.has_ended:
        messages.error(request, f"The campaign is {campaign.get_state_display().lower()}: it can no longer be changed.")
        return redirect("campaigns:detail", request.organisation.pk, campaign.pk)
    form = CampaignForm(request.POST or None, organisation=request.organisation, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        lists = form.cleaned_data["contact_lists"] if "contact_lists" in form.changed_data else None
        try:
            services.campaign_update(
                campaign=campaign, changes=form.changes(), contact_lists=lists, by=request.user, request=request
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "The campaign's settings are saved.")
            return redirect("campaigns:detail", request.organisation.pk, campaign.pk)
    return _page(request, "campaign_form.html", {"form": form, "campaign": campaign})


@organisation_view(capability=Capability.VIEW)
def campaign_detail(request, campaign_id):
    return _detail(request, campaign_of(request, campaign_id))


def _detail(request, campaign: Campaign, *, refused: tuple[str, list[str]] | None = None):
    """The campaign's page; `refused` is (what was refused, every reason) after a launch, pause or resume failed."""
    figures = progress_json(campaign, selectors.progress(campaign))
    unit, buckets = selectors.outcomes_over_time(campaign)
    context = {
        "campaign": campaign,
        "figures": figures,
        "live": campaign.state in LIVE_STATES,
        "launch_problems": services.launch_problems(campaign) if campaign.state == Campaign.State.DRAFT else [],
        "refused": refused,
        "outcome_chart": charts.outcome_columns(unit, buckets),
        "chart_unit": unit,
        "refusal_bars": charts.refusal_bars(figures["gate_reasons"]),
        "organisation_limit": selectors.organisation_call_limit(request.organisation.pk),
        "can_edit": _can(request, Capability.EDIT_CAMPAIGNS),
        "can_launch": _can(request, Capability.LAUNCH_CAMPAIGNS),
    }
    return _page(request, "detail.html", context)


def progress_json(campaign: Campaign, progress: dict) -> dict:
    """selectors.progress() with the words the page shows beside the figures."""
    refusals = selectors.gate_refusals(progress["gate"])
    return {
        **progress,
        "state_label": campaign.get_state_display(),
        "pause_reason": campaign.pause_reason,
        "pause_reason_label": campaign.get_pause_reason_display() if campaign.pause_reason else "",
        "refused": sum(count for _, _, count in refusals),
        "gate_reasons": [{"code": code, "label": label, "count": count} for code, label, count in refusals],
        "live": campaign.state in LIVE_STATES,
    }


@never_cache
@organisation_view(capability=Capability.VIEW)
def campaign_progress(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    return JsonResponse(progress_json(campaign, selectors.progress(campaign)))


def _state_change(request, campaign_id, service, refused: str, done: str):
    campaign = campaign_of(request, campaign_id)
    try:
        campaign = service(campaign=campaign, by=request.user, request=request)
    except ValidationError as exc:
        return _detail(request, campaign, refused=(refused, exc.messages))
    messages.success(request, done.format(state=campaign.get_state_display().lower()))
    return redirect("campaigns:detail", request.organisation.pk, campaign.pk)


@require_POST
@organisation_view(capability=Capability.LAUNCH_CAMPAIGNS)
def campaign_launch(request, campaign_id):
    return _state_change(
        request, campaign_id, services.campaign_launch, "The campaign was not launched", "Launched: the campaign is {state}."
    )


@require_POST
@organisation_view(capability=Capability.LAUNCH_CAMPAIGNS)
def campaign_pause(request, campaign_id):
    return _state_change(
        request,
        campaign_id,
        services.campaign_pause,
        "The campaign was not paused",
        "Paused: no new calls start. Calls already on the line finish normally.",
    )


@require_POST
@organisation_view(capability=Capability.LAUNCH_CAMPAIGNS)
def campaign_resume(request, campaign_id):
    return _state_change(
        request, campaign_id, services.campaign_resume, "The campaign was not resumed", "Resumed: the campaign is {state}."
    )


@organisation_view(capability=Capability.LAUNCH_CAMPAIGNS)
def campaign_cancel(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    if request.method == "POST":
        try:
            services.campaign_cancel(campaign=campaign, by=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "The campaign is cancelled: nobody more will be called.")
        return redirect("campaigns:detail", request.organisation.pk, campaign.pk)
    return _page(request, "cancel.html", {"campaign": campaign})


@organisation_view(capability=Capability.EDIT_CAMPAIGNS)
def automated_decisions(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    form = AutomatedDecisionsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enabled = request.POST.get("enabled") == "on"
        try:
            services.campaign_set_automated_decisions(
                campaign=campaign, enabled=enabled, reason=form.cleaned_data["reason"], by=request.user, request=request
            )
        except ValidationError as exc:
            form.add_error("reason", exc.message_dict.get("automated_decisions_reason", exc.messages))
        else:
            messages.success(request, f"Automated decisions are {'on' if enabled else 'off'} for this campaign.")
            return redirect("campaigns:detail", request.organisation.pk, campaign.pk)
    return _page(request, "automated_decisions.html", {"campaign": campaign, "form": form})


# --- Scripts -------------------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def script_edit(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    editable = _can(request, Capability.EDIT_CAMPAIGNS) and campaign.state != Campaign.State.RUNNING and not campaign.has_ended
    draft, checked = None, None
    if request.method == "POST":
        _require(request, Capability.EDIT_CAMPAIGNS)
        draft = ScriptEditor.from_post(request.POST)
        action = request.POST.get("action", "check")
        if not draft.apply(action):
            try:
                if action == "save":
                    version = services.script_version_save(
                        campaign=campaign, content=draft.content, by=request.user, request=request
                    )
                    messages.success(request, f"Saved as version {version.number}: calls from now on use it.")
                    return redirect("campaigns:script", request.organisation.pk, campaign.pk)
                _, checked = services.script_check(campaign=campaign, content=draft.content)
            except ValidationError as exc:
                draft.add_errors(exc)
    else:
        draft = ScriptEditor(_starting_content(campaign, request.GET.get("from")))
    current = services.script_for(campaign) if campaign.script_version_id else None
    context = {
        "campaign": campaign,
        # After a refused save (the campaign started running meanwhile) the draft stays, with the reason.
        "editor": draft if editable or request.method == "POST" else None,
        "preview": (checked or current).preview() if (checked or current) else None,
        "previewing_draft": checked is not None,
        "versions": campaign.script_versions.select_related("created_by"),
        "can_edit": _can(request, Capability.EDIT_CAMPAIGNS),
    }
    return _page(request, "script.html", context)


def _starting_content(campaign: Campaign, from_number: str | None) -> dict:
    """What the editor opens with: a chosen earlier version, the version in use, or an empty step."""
    if from_number and from_number.isdigit():
        version = campaign.script_versions.filter(number=int(from_number)).first()
        if version is not None:
            return copy.deepcopy(version.content)
    if campaign.script_version_id:
        return copy.deepcopy(campaign.script_version.content)
    return blank_script()


@organisation_view(capability=Capability.VIEW)
def script_version(request, version_id):
    version = get_object_or_404(
        ScriptVersion.objects.select_related("campaign__organisation", "campaign__caller_id", "created_by"),
        campaign__organisation=request.organisation,
        pk=version_id,
    )
    campaign = version.campaign
    context = {
        "campaign": campaign,
        "version": version,
        "preview": services.script_for(campaign, version).preview(),
        "steps": version.content.get("steps", []),
        "can_edit": _can(request, Capability.EDIT_CAMPAIGNS),
        "calls_using": version.calls.count(),
    }
    return _page(request, "script_version.html", context)


# --- Results and calls --------------------------------------------------------------------


def _filtered_calls(request, campaign: Campaign):
    form = ResultsFilterForm(request.GET or None, campaign=campaign)
    return form, selectors.results(campaign, **form.filters())


@organisation_view(capability=Capability.VIEW)
def results(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    form, filtered = _filtered_calls(request, campaign)
    page = Paginator(filtered, CALLS_PER_PAGE).get_page(request.GET.get("page"))
    shown = Visibility.of(request.membership)
    if shown.personal and page.object_list:
        # A page of names and numbers is a bulk read of personal data (P15, P26).
        audit.record(
            audit.PERSONAL_DATA_REVEALED,
            request=request,
            target=campaign,
            details={"view": "campaign results", "page": page.number, "rows": len(page.object_list)},
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "campaign": campaign,
        "form": form,
        "page": page,
        "rows": [(call, shown.name(call.consumer), shown.number(call.consumer)) for call in page.object_list],
        "shown": shown,
        "query": query.urlencode(),
        "can_export": _can(request, Capability.EXPORT_DATA),
    }
    return _page(request, "results.html", context)


@organisation_view(capability=Capability.EXPORT_DATA)
def results_csv(request, campaign_id):
    campaign = campaign_of(request, campaign_id)
    _, filtered = _filtered_calls(request, campaign)
    shown = Visibility.of(request.membership)
    steps = list(dict.fromkeys(step_id for step_id, _, _ in selectors.response_choices(campaign)))
    audit.record(
        audit.PERSONAL_DATA_EXPORTED,
        request=request,
        target=campaign,
        details={"export": "campaign results", "rows": filtered.count(), "names_and_numbers": shown.personal},
    )
    header = ["Call", "Created", "Dialled", "Answered", "Ended", "Duration (s)", "Status", "Outcome", "Answered by"]
    header += ["Attempt", "Script version", "Name", "Number", *[f"Answer: {step}" for step in steps]]
    return csv_response(
        f"campaign-{campaign.pk}-results.csv", header, (_csv_row(c, shown, steps) for c in filtered.iterator(500))
    )


def _csv_row(call: Call, shown: Visibility, steps: list[str]) -> list:
    answers = {response.step_id: response.value for response in call.responses.all()}
    times = [t.isoformat() if t else "" for t in (call.created_at, call.dialled_at, call.answered_at, call.ended_at)]
    return [
        call.pk,
        *times,
        call.duration_seconds if call.duration_seconds is not None else "",
        call.get_status_display(),
        call.get_outcome_display() if call.outcome else "",
        call.answered_by,
        call.attempt,
        call.script_version.number,
        shown.name(call.consumer),
        shown.number(call.consumer),
        *[answers.get(step, "") for step in steps],
    ]


@organisation_view(capability=Capability.VIEW)
def call_detail(request, call_id):
    call = selectors.call_for_detail(request.organisation, call_id)
    if call is None:
        raise Http404("No such call.")
    campaign = call.campaign
    shown = Visibility.of(request.membership)
    if shown.personal:
        audit.record(audit.PERSONAL_DATA_REVEALED, request=request, target=call, details={"view": "call record"})
    recording = Recording.objects.filter(call=call).first()
    context = {
        "campaign": campaign,
        "call": call,
        "shown": shown,
        "name": shown.name(call.consumer),
        "number": shown.number(call.consumer),
        "gate_label": dict(GateReason.choices).get(call.gate_decision, "Allowed"),
        "first_audio_limit": settings.CALL_FIRST_AUDIO_LIMIT_MS,
        "transcript": json.loads(call.transcript) if shown.personal and call.transcript else [],
        "recording": recording,
        "playback_url": _playback_url(request, call, recording) if shown.recordings else "",
        "link_minutes": settings.PRIVATE_URL_EXPIRY_SECONDS // 60,
    }
    return _page(request, "call.html", context)


def _playback_url(request, call: Call, recording: Recording | None) -> str:
    if recording is None or recording.status != Recording.Status.STORED:
        return ""
    token = playback.token_for(recording_id=recording.pk, user_id=request.user.pk)
    return reverse("campaigns:recording", args=[request.organisation.pk, call.pk, token])


@never_cache
@organisation_view(capability=Capability.HEAR_RECORDINGS)
def recording_play(request, call_id, token):
    recording = get_object_or_404(Recording, organisation=request.organisation, call_id=call_id)
    try:
        playback.check(token, recording_id=recording.pk, user_id=request.user.pk)
    except playback.LinkExpired:
        return _page(request, "playback_refused.html", {"call_id": call_id, "expired": True}, status=410)
    except playback.LinkRefused:
        return _page(request, "playback_refused.html", {"call_id": call_id, "expired": False}, status=403)
    try:
        audio = calls.recording_audio(recording=recording, request=request)
    except FileNotFoundError as exc:
        raise Http404("This recording is not available.") from exc
    content_type = recording.content_type or "audio/wav"
    response = HttpResponse(audio, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="call-{call_id}{AUDIO_EXTENSIONS.get(content_type, "")}"'
    response["Cache-Control"] = "no-store, private"
    return response


# --- Caller IDs ------------------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def caller_ids(request):
    form = CallerIdForm(request.POST or None)
    if request.method == "POST":
        _require(request, Capability.EDIT_CAMPAIGNS)
        if form.is_valid():
            try:
                caller_id = services.caller_id_request(
                    organisation=request.organisation, by=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"We are calling {caller_id.label} now. Answer it and key in the code {caller_id.validation_code}.",
                )
                return redirect("campaigns:caller-ids", request.organisation.pk)
    numbers = selectors.caller_ids_for(request.organisation).select_related("requested_by")
    context = {"caller_ids": numbers, "form": form, "can_edit": _can(request, Capability.EDIT_CAMPAIGNS)}
    return _page(request, "caller_ids.html", context)


@never_cache
@organisation_view(capability=Capability.VIEW)
def caller_id_statuses(request):
    numbers = selectors.caller_ids_for(request.organisation)
    return JsonResponse(
        {
            "caller_ids": [
                {"id": c.pk, "status": c.status, "status_label": c.get_status_display(), "reason": c.failure_reason}
                for c in numbers
            ]
        }
    )


@organisation_view(capability=Capability.EDIT_CAMPAIGNS)
def caller_id_remove(request, caller_id):
    number = caller_id_of(request, caller_id)
    if request.method == "POST":
        try:
            services.caller_id_remove(caller_id=number, by=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{number.label}” is removed.")
        return redirect("campaigns:caller-ids", request.organisation.pk)
    return _page(request, "caller_id_remove.html", {"caller_id": number})


# --- Usage statements (P12) ------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def statements(request):
    return _page(request, "statements.html", {"statements": selectors.statements_for(request.organisation)})


@organisation_view(capability=Capability.VIEW)
def statement_csv(request, statement_id):
    statement = get_object_or_404(UsageStatement, pk=statement_id, organisation=request.organisation)
    rows = [
        (line["name"], line["calls_placed"], line["calls_connected"], line["connected_minutes"])
        for line in statement.campaign_lines
    ]
    rows.append(("All campaigns", statement.calls_placed, statement.calls_connected, statement.connected_minutes))
    return csv_response(
        f"usage-{statement.period_start:%Y-%m}.csv", ["Campaign", "Calls placed", "Calls connected", "Connected minutes"], rows
    )
