"""REST API for campaigns, their scripts, contacts and calls, caller IDs and outbound webhooks.

Under /api/v1/orgs/<org_id>/ (campaigns.api_urls). Reads need the "view"
capability; creating and editing campaigns, scripts, caller IDs and webhook
endpoints "edit_campaigns"; launching, pausing, resuming and cancelling
"launch_campaigns". Consumers' names and numbers, what they said and call
transcripts are shown only to callers with "see_personal_data" (everyone else
sees a masked number), and every time they are shown the audit trail says so.

Every write is a service call (campaigns.services, campaigns.client_webhooks);
a service's refusal comes back as a 400 naming the field and saying why
(accounts.access.OrganisationServiceAPIView). Objects are looked up only among
the caller's organisation's own, so another client's id is simply not found.
Phone numbers travel in request bodies, never in URLs.
"""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.access import OrganisationServiceAPIView, caller_can
from accounts.models import Capability
from consumers.models import ContactList
from nextsupport import audit
from nextsupport.identifiers import mask_phone

from . import client_webhooks, gate, selectors, services
from .models import (
    Call,
    CallerId,
    Campaign,
    CampaignContact,
    GateReason,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .numbers import returnable_uk_number

CAMPAIGNS, SCRIPTS, CONTACTS, CALLS = "Campaigns", "Call scripts", "Campaign contacts", "Calls"
CALLER_IDS, WEBHOOKS = "Caller IDs", "Webhooks"
# Operations that act on the resource in the URL alone: their body is an empty JSON object.
EMPTY_BODY = {"application/json": {"type": "object", "additionalProperties": False}}
DECISIONS = [(gate.ALLOWED, "Allowed"), *GateReason.choices]


# Comments, not docstrings, on the API's classes: drf-spectacular would print a docstring in the
# public schema as the description of every operation or component.


class _Api(OrganisationServiceAPIView):
    # Reads need VIEW, writes EDIT_CAMPAIGNS; `validated` resolves ids among the organisation's own rows.

    write_capability = Capability.EDIT_CAMPAIGNS
    parser_classes = [JSONParser]
    pagination_class = PageNumberPagination

    def validated(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context={"organisation": self.request.organisation}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filters(self, serializer_class) -> dict:
        """The query string checked by `serializer_class`: an unknown state or a bad date is a 400 naming it."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def page(self, queryset, serializer_class, **context) -> Response:
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(rows, many=True, context=context).data)

    @property
    def sees_personal_data(self) -> bool:
        return caller_can(self.request, Capability.SEE_PERSONAL_DATA)

    def audit_reveal(self, view: str, rows: int, target=None, **details) -> None:
        """Consumers' personal data was shown (P15, P26): who, which view, how many rows; never the data."""
        if rows:
            audit.record(
                audit.PERSONAL_DATA_REVEALED,
                request=self.request,
                target=target,
                organisation_id=self.request.organisation.pk,
                details={"view": view, "rows": rows, **details},
            )


class _StateChangeApi(_Api):
    write_capability = Capability.LAUNCH_CAMPAIGNS


def _found(queryset, pk, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


def campaign_of(request, campaign_id: int) -> Campaign:
    return _found(selectors.campaigns_for(request.organisation), campaign_id, "campaign")


class OwnedField(serializers.PrimaryKeyRelatedField):
    # The id of one of the caller's organisation's own rows: any other id is "not found", whoever it belongs to.

    def __init__(self, *, model, selector, what: str, **kwargs):
        self.selector = selector
        kwargs.setdefault("error_messages", {"does_not_exist": f"There is no {what} {{pk_value}} in your organisation."})
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        return self.selector(self.context["organisation"])


# --- Campaigns ----------------------------------------------------------------------------


class CampaignOutput(serializers.ModelSerializer):
    transfer_number = serializers.CharField(allow_null=True, help_text="E.164; where people who ask for a person go.")
    contact_lists = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    script_version = serializers.IntegerField(source="script_version.number", allow_null=True, help_text="The version calls use.")
    record_calls = serializers.BooleanField(help_text="When on, every call says so before anything is recorded.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "purpose",
            "lawful_basis",
            "state",
            "pause_reason",
            "contact_lists",
            "caller_id",
            "transfer_number",
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
            "automated_decisions",
            "automated_decisions_reason",
            "automated_decisions_set_at",
            "created_at",
            "updated_at",
            "launched_at",
            "ended_at",
        ]


class CampaignDetailOutput(CampaignOutput):
    launch_problems = serializers.SerializerMethodField(
        help_text="What stops a draft launching, or a paused campaign resuming, now; empty when nothing does."
    )

    class Meta(CampaignOutput.Meta):
        fields = [*CampaignOutput.Meta.fields, "launch_problems"]

    def get_launch_problems(self, obj) -> list[str]:
        if obj.state not in (Campaign.State.DRAFT, Campaign.State.PAUSED):
            return []
        return services.launch_problems(obj)


class CampaignSettings(serializers.Serializer):
    # Types only here: the rules (P17's lawful bases, the legal calling hours, the limits) are
    # the service's, which names the field it refuses.

    name = serializers.CharField(max_length=120)
    purpose = serializers.ChoiceField(choices=Campaign.Purpose.choices)
    lawful_basis = serializers.ChoiceField(
        choices=Campaign.LawfulBasis.choices,
        help_text="A support campaign rests on contract or legitimate interests, a marketing campaign on consent.",
    )
    contact_lists = OwnedField(
        many=True, required=False, model=ContactList, selector=selectors.contact_lists_for, what="contact list"
    )
    caller_id = OwnedField(required=False, allow_null=True, model=CallerId, selector=selectors.caller_ids_for, what="caller ID")
    transfer_number = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=32, help_text="A UK number where a person answers."
    )
    timezone = serializers.CharField(required=False, max_length=64, help_text="For people whose own time zone is unknown.")
    calling_days = serializers.ListField(child=serializers.IntegerField(), required=False, help_text="Weekdays, 0 = Monday.")
    window_start = serializers.TimeField(required=False)
    window_end = serializers.TimeField(required=False)
    call_on_bank_holidays = serializers.BooleanField(required=False)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    max_attempts = serializers.IntegerField(required=False)
    retry_spacing_minutes = serializers.IntegerField(required=False)
    max_concurrent_calls = serializers.IntegerField(required=False)
    record_calls = serializers.BooleanField(required=False, help_text="When on, every call says so before anything is recorded.")

    def validate_transfer_number(self, value):
        return value or None


def _split_lists(data: dict) -> tuple[dict, list | None]:
    settings = dict(data)
    return settings, settings.pop("contact_lists", None)


class CampaignsApi(_Api):
    class Filters(serializers.Serializer):
        state = serializers.ChoiceField(choices=Campaign.State.choices, required=False)

    @extend_schema(
        summary="List campaigns",
        description="Newest first, paginated; `state` narrows the list.",
        parameters=[Filters],
        responses=CampaignOutput(many=True),
        tags=[CAMPAIGNS],
    )
    def get(self, request, org_id):
        filters = self.filters(self.Filters)
        return self.page(selectors.campaign_list(request.organisation, state=filters.get("state", "")), CampaignOutput)

    @extend_schema(
        summary="Create a campaign",
        description="A draft: write its script, then launch it. Settings left out take their defaults "
        "(Monday to Saturday, 09:00-20:00 in the person's local time, 3 attempts 4 hours apart, no recording).",
        request=CampaignSettings,
        responses={201: CampaignDetailOutput},
        tags=[CAMPAIGNS],
    )
    def post(self, request, org_id):
        settings, lists = _split_lists(self.validated(CampaignSettings))
        campaign = services.campaign_create(
            organisation=request.organisation, by=request.actor, request=request, contact_lists=lists or (), **settings
        )
        return Response(CampaignDetailOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignApi(_Api):
    @extend_schema(
        summary="Read a campaign",
        description="Its settings and state, and what stops a draft launching or a paused campaign resuming now.",
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def get(self, request, org_id, campaign_id):
        return Response(CampaignDetailOutput(campaign_of(request, campaign_id)).data)

    @extend_schema(
        summary="Edit a campaign",
        description="Send only what changes. While it runs, only the name, concurrency and end date may change; "
        "pause it for anything else. An ended campaign cannot change.",
        request=CampaignSettings(partial=True),
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def patch(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)  # 404 before the input is even read
        changes, lists = _split_lists(self.validated(CampaignSettings, partial=True))
        campaign = services.campaign_update(
            campaign=campaign, changes=changes, contact_lists=lists, by=request.actor, request=request
        )
        return Response(CampaignDetailOutput(campaign).data)


class CampaignLaunchApi(_StateChangeApi):
    @extend_schema(
        summary="Launch a campaign",
        description="A draft starts calling now, or on its start date. Refused with every reason, changing nothing, "
        "while anything is missing: the account's approval, an attested and imported (for marketing, screened) list, "
        "a verified caller ID, a transfer number, a script. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def post(self, request, org_id, campaign_id):
        campaign = services.campaign_launch(campaign=campaign_of(request, campaign_id), by=request.actor, request=request)
        return Response(CampaignDetailOutput(campaign).data)


class CampaignPauseApi(_StateChangeApi):
    @extend_schema(
        summary="Pause a campaign",
        description="No new calls from now; calls on the line finish normally. Pausing a paused campaign changes nothing. "
        "The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def post(self, request, org_id, campaign_id):
        campaign = services.campaign_pause(campaign=campaign_of(request, campaign_id), by=request.actor, request=request)
        return Response(CampaignDetailOutput(campaign).data)


class CampaignResumeApi(_StateChangeApi):
    @extend_schema(
        summary="Resume a paused campaign",
        description="Checked like a launch; a campaign paused for its abandoned-call rate resumes only once the rate "
        "is back under the pause threshold. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def post(self, request, org_id, campaign_id):
        campaign = services.campaign_resume(campaign=campaign_of(request, campaign_id), by=request.actor, request=request)
        return Response(CampaignDetailOutput(campaign).data)


class CampaignCancelApi(_StateChangeApi):
    @extend_schema(
        summary="Cancel a campaign",
        description="For good: nobody else is called, and the 30-day clock of its lists' data starts unless "
        "another live campaign uses them. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def post(self, request, org_id, campaign_id):
        campaign = services.campaign_cancel(campaign=campaign_of(request, campaign_id), by=request.actor, request=request)
        return Response(CampaignDetailOutput(campaign).data)


class AutomatedDecisionsApi(_Api):
    class Input(serializers.Serializer):
        automated_decisions = serializers.BooleanField()
        automated_decisions_reason = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="Why, and what the decisions decide (switching on)."
        )

    @extend_schema(
        summary="Switch automated decisions on or off",
        # P16: off unless the client explicitly switched them on for this campaign, with a recorded reason.
        description="Decisions with legal effects are off unless switched on for this campaign, with the reason. "
        "Switching on must be done by a signed-in person, whom the campaign's record names; an API key can only "
        "switch them off.",
        request=Input,
        responses=CampaignDetailOutput,
        tags=[CAMPAIGNS],
    )
    def put(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        if data["automated_decisions"] and request.actor is None:
            raise PermissionDenied(
                "Automated decisions are switched on by a signed-in person, whom the campaign's record names, "
                "not with an API key. Switch them on in the portal or with a signed-in session."
            )
        campaign = services.campaign_set_automated_decisions(
            campaign=campaign,
            enabled=data["automated_decisions"],
            reason=data["automated_decisions_reason"],
            by=request.actor,
            request=request,
        )
        return Response(CampaignDetailOutput(campaign).data)


class AbandonedRateOutput(serializers.Serializer):
    rate = serializers.FloatField(help_text="abandoned / (abandoned + live) over the last 24 hours (Ofcom: under 3%).")
    abandoned = serializers.IntegerField()
    live = serializers.IntegerField()
    machines = serializers.IntegerField()
    estimated_false_positives = serializers.FloatField(help_text="Machine detections estimated to be people.")
    slow_at = serializers.FloatField()
    pause_at = serializers.FloatField()
    limit = serializers.FloatField()


class CampaignProgressApi(_Api):
    class Output(serializers.Serializer):
        state = serializers.ChoiceField(choices=Campaign.State.choices)
        calls = serializers.DictField(child=serializers.IntegerField(), help_text="Calls dialled, connected, and by outcome.")
        contacts = serializers.DictField(child=serializers.IntegerField(), help_text="Contacts by state.")
        gate = serializers.DictField(
            child=serializers.IntegerField(), help_text="Gate decisions: 'allowed' and each refusal reason."
        )
        abandoned_rate = AbandonedRateOutput()
        slowed = serializers.BooleanField(help_text="Fewer calls at once while the abandoned-call rate is high.")

    @extend_schema(
        summary="A campaign's progress",
        description="The live figures: calls by outcome, contacts by state, the gate's decisions by reason, and the "
        "abandoned-call rate over the last 24 hours with the thresholds at which calls slow down and pause.",
        responses=Output,
        tags=[CAMPAIGNS],
    )
    def get(self, request, org_id, campaign_id):
        return Response(self.Output(selectors.progress(campaign_of(request, campaign_id))).data)


# --- Call scripts -------------------------------------------------------------------------


class ScriptAnswerShape(serializers.Serializer):
    value = serializers.CharField(help_text="The answer's name, kept as the call's response, e.g. 'yes'.")
    label = serializers.CharField(required=False, help_text="How the results show it; the value when left out.")
    phrases = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Words or short sentences that mean this answer."
    )
    digit = serializers.CharField(
        required=False, allow_blank=True, help_text="A keypad digit, 1 to 8 (0 is for a person and 9 stops the calls)."
    )
    next = serializers.CharField(required=False, help_text="A later step's id, 'closing' (the default) or 'transfer'.")
    outcome = serializers.CharField(
        required=False, allow_blank=True, help_text="'not_interested' when this answer ends the call as not interested."
    )


class ScriptStepShape(serializers.Serializer):
    id = serializers.CharField(help_text="Lower-case letters, digits and _, starting with a letter.")
    question = serializers.CharField()
    answers = ScriptAnswerShape(many=True)
    otherwise = serializers.CharField(
        required=False, help_text="Where the call goes when no answer matched (after one reprompt)."
    )


class ScriptShape(serializers.Serializer):
    # The client's part of a script. It documents the shape in the schema only: the body goes to
    # the service as sent, because campaigns.script.parse holds every rule of the format and names
    # the exact place of each problem ("steps[1].answers[0].next"), which a second set of checks
    # here would only contradict.

    greeting = serializers.CharField(required=False, allow_blank=True)
    steps = ScriptStepShape(many=True, required=False)
    closing = serializers.CharField(required=False, allow_blank=True)


class PreviewLineOutput(serializers.Serializer):
    text = serializers.CharField()
    source = serializers.ChoiceField(choices=[("platform", "Platform"), ("client", "Client")], help_text="Who wrote the line.")
    part = serializers.CharField(
        help_text="disclosure, recording, options, greeting, question:<step>, closing, opt_out, transfer"
    )


class ScriptVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, help_text="The member; null for an API key.")
    in_use = serializers.SerializerMethodField(help_text="Whether this is the version the campaign's calls use.")
    content = serializers.JSONField()

    def get_in_use(self, obj) -> bool:
        return obj.pk == obj.campaign.script_version_id


class ScriptVersionDetailOutput(ScriptVersionOutput):
    preview = serializers.SerializerMethodField(
        help_text="Exactly what the agent can say, in order: the platform's fixed lines first."
    )

    @extend_schema_field(PreviewLineOutput(many=True))
    def get_preview(self, obj):
        lines = services.script_for(obj.campaign, obj).preview()
        return PreviewLineOutput(lines, many=True).data


class ScriptVersionsApi(_Api):
    @extend_schema(
        summary="List a campaign's script versions",
        description="Newest first. A version is never changed: saving a script makes a new one.",
        responses=ScriptVersionOutput(many=True),
        tags=[SCRIPTS],
    )
    def get(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)
        return self.page(selectors.script_versions_of(campaign), ScriptVersionOutput)

    @extend_schema(
        summary="Save a new script version",
        description="It becomes the version calls use. Refused while the campaign runs (pause it first) and once it "
        "has ended; a script that would contradict the AI disclosure, or an answer the guardrails would override, is "
        "refused naming its place. The answer shows the preview of exactly what will be said. Saving the same script "
        "again returns the latest version unchanged.",
        request=ScriptShape,
        responses={201: ScriptVersionDetailOutput},
        tags=[SCRIPTS],
    )
    def post(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)  # 404 before the input is even read
        version = services.script_version_save(campaign=campaign, content=request.data, by=request.actor, request=request)
        return Response(ScriptVersionDetailOutput(version).data, status=status.HTTP_201_CREATED)


class ScriptVersionApi(_Api):
    @extend_schema(
        summary="Read a script version, with its preview",
        description="The version as saved, and the preview of exactly what the agent says with it.",
        responses=ScriptVersionDetailOutput,
        tags=[SCRIPTS],
    )
    def get(self, request, org_id, version_id):
        version = _found(selectors.script_versions_for(request.organisation), version_id, "script version")
        return Response(ScriptVersionDetailOutput(version).data)


# --- Contacts and calls -------------------------------------------------------------------


def _identity(consumer, reveal: bool) -> tuple[str | None, str | None]:
    """(name, number) of a consumer as this caller may see them: in full, or the number masked and no name."""
    if consumer is None:
        return None, None
    if reveal:
        return consumer.name, consumer.phone
    return None, mask_phone(consumer.phone)


def _decision_label(decision: str) -> str:
    return dict(DECISIONS).get(decision, "") if decision else ""


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    consumer = serializers.IntegerField(source="consumer_id")
    name = serializers.SerializerMethodField(help_text="Only for callers who may see personal data; null otherwise.")
    phone = serializers.SerializerMethodField(help_text="E.164 for callers who may see personal data; masked otherwise.")
    contact_list = serializers.IntegerField(source="contact_list_id", allow_null=True)
    state = serializers.ChoiceField(choices=CampaignContact.State.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_decision = serializers.CharField(help_text="The gate's last decision: 'allowed' or a refusal reason.")
    last_decision_reason = serializers.SerializerMethodField(help_text="The decision in words.")
    last_decided_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(help_text="The outcome (or telephony status) of the last call.")

    def get_name(self, obj) -> str | None:
        return _identity(obj.consumer, self.context["reveal"])[0]

    def get_phone(self, obj) -> str | None:
        return _identity(obj.consumer, self.context["reveal"])[1]

    def get_last_decision_reason(self, obj) -> str:
        return _decision_label(obj.last_decision)


class CampaignContactsApi(_Api):
    class Filters(serializers.Serializer):
        state = serializers.ChoiceField(choices=CampaignContact.State.choices, required=False)
        decision = serializers.ChoiceField(choices=DECISIONS, required=False, help_text="The gate's last decision.")

    @extend_schema(
        summary="List a campaign's contacts and where each stands",
        description="State, attempts, the gate's last decision and why, and the last outcome; paginated, filterable "
        "by state and decision. Names and full numbers only for callers who may see personal data.",
        parameters=[Filters],
        responses=ContactOutput(many=True),
        tags=[CONTACTS],
    )
    def get(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)
        filters = self.filters(self.Filters)
        response = self.page(selectors.campaign_contacts(campaign, **filters), ContactOutput, reveal=self.sees_personal_data)
        if self.sees_personal_data:
            self.audit_reveal("campaign contacts", len(response.data["results"]), target=campaign)
        return response


class CallOutput(serializers.ModelSerializer):
    number = serializers.SerializerMethodField(help_text="E.164 for callers who may see personal data; masked otherwise.")
    script_version = serializers.IntegerField(source="script_version.number")

    class Meta:
        model = Call
        fields = [
            "id",
            "campaign",
            "contact",
            "consumer",
            "number",
            "attempt",
            "script_version",
            "gate_decision",
            "status",
            "outcome",
            "failure_reason",
            "answered_by",
            "created_at",
            "dialled_at",
            "answered_at",
            "first_audio_ms",
            "slow_first_audio",
            "ended_at",
            "duration_seconds",
            "opted_out_at",
            "transferred_at",
        ]

    def get_number(self, obj) -> str | None:
        return _identity(obj.consumer, self.context["reveal"])[1]


class CallResponseOutput(serializers.Serializer):
    step_id = serializers.CharField()
    question = serializers.CharField()
    value = serializers.CharField(help_text="The script's answer that matched; blank when none did.")
    heard = serializers.CharField(allow_null=True, help_text="What the person said: only with personal data.")
    answered_at = serializers.DateTimeField()


class TranscriptLineOutput(serializers.Serializer):
    speaker = serializers.ChoiceField(choices=[("agent", "Agent"), ("person", "Person")])
    text = serializers.CharField()
    at = serializers.FloatField(required=False, help_text="Seconds from answer.")


class RecordingOutput(serializers.Serializer):
    status = serializers.CharField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    stored_at = serializers.DateTimeField(allow_null=True)


class CallDetailOutput(CallOutput):
    responses = serializers.SerializerMethodField()
    transcript = serializers.SerializerMethodField(help_text="Only for callers who may see personal data; null otherwise.")
    recording = serializers.SerializerMethodField(help_text="Whether the call was recorded; it is played in the portal.")

    class Meta(CallOutput.Meta):
        fields = [*CallOutput.Meta.fields, "responses", "transcript", "recording"]

    @extend_schema_field(CallResponseOutput(many=True))
    def get_responses(self, obj):
        reveal = self.context["reveal"]
        return [
            {
                "step_id": r.step_id,
                "question": r.question,
                "value": r.value,
                "heard": r.heard if reveal else None,
                "answered_at": r.answered_at,
            }
            for r in obj.responses.all()
        ]

    @extend_schema_field(TranscriptLineOutput(many=True, allow_null=True))
    def get_transcript(self, obj):
        if not self.context["reveal"] or not obj.transcript:
            return None
        return json.loads(obj.transcript)

    @extend_schema_field(RecordingOutput(allow_null=True))
    def get_recording(self, obj):
        recording = getattr(obj, "recording", None)
        return RecordingOutput(recording).data if recording else None


class CampaignCallsApi(_Api):
    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=Call.Status.choices, required=False)
        outcome = serializers.ChoiceField(choices=Call.Outcome.choices, required=False)
        date_from = serializers.DateField(required=False, help_text="Calls placed on or after this day (UK time).")
        date_to = serializers.DateField(required=False, help_text="Calls placed on or before this day (UK time).")

        def validate(self, attrs):
            if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
                raise serializers.ValidationError({"date_to": "The last day is before the first."})
            return attrs

    @extend_schema(
        summary="List a campaign's calls and their outcomes",
        description="Newest first, paginated; filterable by telephony status, outcome and the day placed.",
        parameters=[Filters],
        responses=CallOutput(many=True),
        tags=[CALLS],
    )
    def get(self, request, org_id, campaign_id):
        campaign = campaign_of(request, campaign_id)
        filters = self.filters(self.Filters)
        response = self.page(selectors.campaign_calls(campaign, **filters), CallOutput, reveal=self.sees_personal_data)
        if self.sees_personal_data:
            self.audit_reveal("campaign calls", len(response.data["results"]), target=campaign)
        return response


class CallApi(_Api):
    @extend_schema(
        summary="Read a call, with its responses",
        description="Everything recorded about the call. What the person said and the transcript only for "
        "callers who may see personal data. Recordings are played in the portal, where each playback is logged.",
        responses=CallDetailOutput,
        tags=[CALLS],
    )
    def get(self, request, org_id, call_id):
        call = _found(selectors.calls_for(request.organisation), call_id, "call")
        reveal = self.sees_personal_data
        if reveal:
            self.audit_reveal("call record", 1, target=call)
        return Response(CallDetailOutput(call, context={"reveal": reveal}).data)


# --- Caller IDs ---------------------------------------------------------------------------


class CallerIdOutput(serializers.ModelSerializer):
    number = serializers.CharField(help_text="E.164.")

    class Meta:
        model = CallerId
        fields = ["id", "label", "number", "status", "failure_reason", "provider", "requested_at", "verified_at"]


class CallerIdsApi(_Api):
    class Input(serializers.Serializer):
        number = serializers.CharField(max_length=32, help_text="A UK number your organisation answers; never premium rate.")
        label = serializers.CharField(max_length=100, help_text="A name for it, e.g. 'Customer service line'.")

        def validate_number(self, value):
            # The service checks it too; here it is so that the refusal names the field.
            try:
                return returnable_uk_number(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc

    class CreatedOutput(CallerIdOutput):
        validation_code = serializers.CharField(help_text="Key this in when the verification call rings the number.")

        class Meta(CallerIdOutput.Meta):
            fields = [*CallerIdOutput.Meta.fields, "validation_code"]

    @extend_schema(
        summary="List caller IDs",
        description="The numbers your campaigns can show, verified or waiting for their verification call.",
        responses=CallerIdOutput(many=True),
        tags=[CALLER_IDS],
    )
    def get(self, request, org_id):
        return self.page(selectors.caller_ids_for(request.organisation), CallerIdOutput)

    @extend_schema(
        summary="Ask to verify a caller ID",
        description="The telephone network rings the number; whoever answers keys in the code in this answer. "
        "Its status becomes 'verified' when they do: every call shows a number people can call back.",
        request=Input,
        responses={201: CreatedOutput},
        tags=[CALLER_IDS],
    )
    def post(self, request, org_id):
        data = self.validated(self.Input)
        caller_id = services.caller_id_request(organisation=request.organisation, by=request.actor, request=request, **data)
        return Response(self.CreatedOutput(caller_id).data, status=status.HTTP_201_CREATED)


class CallerIdApi(_Api):
    @extend_schema(
        summary="Read a caller ID",
        description="Whether its verification has succeeded, failed, or is still waiting.",
        responses=CallerIdOutput,
        tags=[CALLER_IDS],
    )
    def get(self, request, org_id, caller_id):
        return Response(CallerIdOutput(_found(selectors.caller_ids_for(request.organisation), caller_id, "caller ID")).data)

    @extend_schema(
        summary="Remove a caller ID",
        description="Refused while a campaign that has not ended uses it.",
        responses={204: None},
        tags=[CALLER_IDS],
    )
    def delete(self, request, org_id, caller_id):
        found = _found(selectors.caller_ids_for(request.organisation), caller_id, "caller ID")
        services.caller_id_remove(caller_id=found, by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Outbound webhooks --------------------------------------------------------------------


class WebhookEndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "created_at", "secret_rotated_at"]


class WebhookSecretOutput(WebhookEndpointOutput):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret, shown this once: we do not keep it. Sign-check every delivery with it."
    )

    class Meta(WebhookEndpointOutput.Meta):
        fields = [*WebhookEndpointOutput.Meta.fields, "secret"]

    def get_secret(self, obj) -> str:
        return self.context["secret"]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="event_id", help_text="Sent as X-NextSupport-Delivery; the same on every retry.")
    payload = serializers.JSONField(help_text="The body sent: ids, codes and times, no personal data.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "state",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "payload",
        ]


def endpoint_of(request, endpoint_id: int) -> WebhookEndpoint:
    return _found(selectors.webhook_endpoints_for(request.organisation), endpoint_id, "webhook endpoint")


class WebhookEndpointsApi(_Api):
    class Input(serializers.Serializer):
        url = serializers.CharField(max_length=500, help_text="https:// only; a public address.")
        events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(
        summary="List webhook endpoints",
        description="Where events are sent, and which; the signing secrets are never shown again.",
        responses=WebhookEndpointOutput(many=True),
        tags=[WEBHOOKS],
    )
    def get(self, request, org_id):
        return self.page(selectors.webhook_endpoints_for(request.organisation), WebhookEndpointOutput)

    @extend_schema(
        summary="Add a webhook endpoint",
        description="We POST signed JSON to it when a call ends and when someone opts out, retrying with backoff "
        "(1 min, 5 min, 30 min, 2 h, 6 h, 24 h) on network errors, 5xx and 429. The answer carries the signing "
        "secret, once. Verify X-NextSupport-Signature = 'sha256=' + hex HMAC-SHA256(secret, timestamp + '.' + body) "
        "with X-NextSupport-Timestamp, and refuse timestamps older than five minutes.",
        request=Input,
        responses={201: WebhookSecretOutput},
        tags=[WEBHOOKS],
    )
    def post(self, request, org_id):
        data = self.validated(self.Input)
        endpoint, secret = client_webhooks.webhook_endpoint_create(
            organisation=request.organisation, by=request.actor, request=request, **data
        )
        return Response(WebhookSecretOutput(endpoint, context={"secret": secret}).data, status=status.HTTP_201_CREATED)


class WebhookEndpointApi(_Api):
    class Input(serializers.Serializer):
        url = serializers.CharField(max_length=500, required=False)
        events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        active = serializers.BooleanField(required=False, help_text="Switched off, it is sent nothing.")

    @extend_schema(
        summary="Read a webhook endpoint",
        description="Its address, events and whether it is on; its delivery log is under deliveries/.",
        responses=WebhookEndpointOutput,
        tags=[WEBHOOKS],
    )
    def get(self, request, org_id, endpoint_id):
        return Response(WebhookEndpointOutput(endpoint_of(request, endpoint_id)).data)

    @extend_schema(
        summary="Edit a webhook endpoint",
        description="Send only what changes: its address, events, description, or whether it is on.",
        request=Input,
        responses=WebhookEndpointOutput,
        tags=[WEBHOOKS],
    )
    def patch(self, request, org_id, endpoint_id):
        endpoint = endpoint_of(request, endpoint_id)  # 404 before the input is even read
        changes = self.validated(self.Input, partial=True)
        endpoint = client_webhooks.webhook_endpoint_update(endpoint=endpoint, changes=changes, by=request.actor, request=request)
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(
        summary="Remove a webhook endpoint",
        description="With its delivery log; nothing more is sent to it.",
        responses={204: None},
        tags=[WEBHOOKS],
    )
    def delete(self, request, org_id, endpoint_id):
        client_webhooks.webhook_endpoint_delete(endpoint=endpoint_of(request, endpoint_id), by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretApi(_Api):
    @extend_schema(
        summary="Rotate a webhook endpoint's signing secret",
        description="Every attempt from now on, retries included, is signed with the new secret, shown in this answer "
        "once. Accept both secrets in your receiver while you switch over. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=WebhookSecretOutput,
        tags=[WEBHOOKS],
    )
    def post(self, request, org_id, endpoint_id):
        endpoint = endpoint_of(request, endpoint_id)
        secret = client_webhooks.webhook_endpoint_rotate_secret(endpoint=endpoint, by=request.actor, request=request)
        endpoint.refresh_from_db()
        return Response(WebhookSecretOutput(endpoint, context={"secret": secret}).data)


class WebhookTestApi(_Api):
    @extend_schema(
        summary="Send a test event to a webhook endpoint",
        description="A 'webhook.test' event, signed and sent like any other, so you can check your receiver; "
        "its result shows in the delivery log. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses={202: WebhookDeliveryOutput},
        tags=[WEBHOOKS],
    )
    def post(self, request, org_id, endpoint_id):
        delivery = client_webhooks.webhook_test_send(
            endpoint=endpoint_of(request, endpoint_id), by=request.actor, request=request
        )
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesApi(_Api):
    class Filters(serializers.Serializer):
        state = serializers.ChoiceField(choices=WebhookDelivery.State.choices, required=False)
        event = serializers.ChoiceField(choices=[*WebhookEvent.choices, (WebhookDelivery.TEST_EVENT, "Test")], required=False)

    @extend_schema(
        summary="The delivery log of a webhook endpoint",
        description="Newest first, paginated: each event's state, attempts, last answer and next attempt.",
        parameters=[Filters],
        responses=WebhookDeliveryOutput(many=True),
        tags=[WEBHOOKS],
    )
    def get(self, request, org_id, endpoint_id):
        endpoint = endpoint_of(request, endpoint_id)
        filters = self.filters(self.Filters)
        return self.page(selectors.webhook_deliveries_of(endpoint, **filters), WebhookDeliveryOutput)
