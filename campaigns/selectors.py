"""Reads of campaigns and calls: what the dispatcher paces by, and what the portal and API show."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.text import Truncator

from consumers.models import ContactList

from . import calling_window
from .models import (
    Call,
    CallerId,
    CallingLimit,
    CallResponse,
    Campaign,
    CampaignContact,
    GateReason,
    GateTally,
    ScriptVersion,
    UsageStatement,
    WebhookDelivery,
    WebhookEndpoint,
)

_MACHINE = Q(answered_by__startswith="machine")
ROLLING_WINDOW = datetime.timedelta(hours=24)
ESTIMATE_FROM = 50


@dataclass(frozen=True)
class AbandonedRate:
    """Ofcom's abandoned-call rate over the last 24 hours: abandoned / (abandoned + live).

    Answering-machine detection sometimes takes a person for a machine; that
    person heard a message and was hung up on, so an estimated share of the
    machine detections counts as abandoned too. The estimate is a share, which
    means nothing over a handful of calls (one voicemail and no live call yet
    would read as 100%), so it counts from ESTIMATE_FROM answered calls; an
    actual abandoned call always counts at once.
    """

    abandoned: int = 0
    live: int = 0
    machines: int = 0

    @property
    def answered(self) -> int:
        return self.abandoned + self.live + self.machines

    @property
    def estimated_false_positives(self) -> float:
        if self.answered < ESTIMATE_FROM:
            return 0.0
        return self.machines * settings.AMD_FALSE_POSITIVE_RATE

    @property
    def rate(self) -> float:
        abandoned = self.abandoned + self.estimated_false_positives
        total = abandoned + self.live
        return abandoned / total if total else 0.0

    @property
    def slow_at(self) -> float:
        return settings.ABANDONED_RATE_SLOW_AT

    @property
    def pause_at(self) -> float:
        return settings.ABANDONED_RATE_PAUSE_AT

    @property
    def limit(self) -> float:
        return settings.ABANDONED_RATE_LIMIT


def abandoned_rates(campaign_ids, *, now: datetime.datetime | None = None) -> dict[int, AbandonedRate]:
    """The rate for each campaign, in one query."""
    now = now or timezone.now()
    rows = (
        Call.objects.filter(campaign_id__in=list(campaign_ids), ended_at__gte=now - ROLLING_WINDOW)
        .values("campaign_id")
        .annotate(
            abandoned=Count("id", filter=Q(outcome=Call.Outcome.ABANDONED)),
            live=Count("id", filter=Q(answered_at__isnull=False) & ~_MACHINE & ~Q(outcome=Call.Outcome.ABANDONED)),
            machines=Count("id", filter=_MACHINE),
        )
        .order_by()
    )
    rates = {pk: AbandonedRate() for pk in campaign_ids}
    for row in rows:
        rates[row["campaign_id"]] = AbandonedRate(row["abandoned"], row["live"], row["machines"])
    return rates


def abandoned_rate(campaign: Campaign, *, now: datetime.datetime | None = None) -> AbandonedRate:
    return abandoned_rates([campaign.pk], now=now)[campaign.pk]


def organisation_call_limit(organisation_id: int) -> int:
    limit = CallingLimit.objects.filter(organisation_id=organisation_id).values_list("max_concurrent_calls", flat=True).first()
    return settings.CAMPAIGN_ORGANISATION_MAX_CONCURRENT_CALLS if limit is None else limit


def on_the_line(campaign: Campaign) -> tuple[int, int]:
    """Calls of the campaign, and of its whole organisation, that are queued, ringing or in progress."""
    counts = Call.objects.filter(organisation_id=campaign.organisation_id, status__in=Call.ON_THE_LINE).aggregate(
        campaign=Count("id", filter=Q(campaign_id=campaign.pk)), organisation=Count("id")
    )
    return counts["campaign"], counts["organisation"]


def effective_concurrency(campaign: Campaign) -> int:
    """The campaign's calls at once, halved while the dispatcher has it slowed for its abandoned-call rate."""
    if campaign.slowed_at:
        return max(1, campaign.max_concurrent_calls // 2)
    return campaign.max_concurrent_calls


def running_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(state=Campaign.State.RUNNING).select_related("organisation", "caller_id").order_by("pk")


def scheduled_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(state=Campaign.State.SCHEDULED)


def finished_running_campaigns() -> QuerySet[Campaign]:
    """Running campaigns with nobody left to call and nothing on the line."""
    waiting = Q(contacts__state__in=[CampaignContact.State.WAITING, CampaignContact.State.IN_CALL])
    return Campaign.objects.filter(state=Campaign.State.RUNNING).annotate(left=Count("contacts", filter=waiting)).filter(left=0)


def campaigns_past_end_date(now: datetime.datetime | None = None) -> QuerySet[Campaign]:
    today = timezone.localdate(now or timezone.now())
    return Campaign.objects.filter(state=Campaign.State.RUNNING, end_date__lt=today)


# --- Portal and API --------------------------------------------------------------------------


def campaigns_for(organisation) -> QuerySet[Campaign]:
    return Campaign.objects.filter(organisation=organisation).select_related("caller_id")


def gate_counts(campaign: Campaign) -> dict[str, int]:
    """How many times the gate allowed, and refused for each reason, the campaign's contacts."""
    return dict(GateTally.objects.filter(campaign=campaign).values_list("decision", "count"))


def progress(campaign: Campaign, *, now: datetime.datetime | None = None) -> dict:
    """The live figures of a campaign's page: calls, outcomes, refusals and the abandoned-call rate."""
    calls = Call.objects.filter(campaign=campaign).aggregate(
        dialled=Count("id", filter=~Q(status=Call.Status.CANCELLED)),
        on_the_line=Count("id", filter=Q(status__in=Call.ON_THE_LINE)),
        connected=Count("id", filter=Q(answered_at__isnull=False)),
        completed=Count("id", filter=Q(outcome=Call.Outcome.COMPLETED_SCRIPT)),
        opted_out=Count("id", filter=Q(outcome=Call.Outcome.OPTED_OUT)),
        transferred=Count("id", filter=Q(outcome=Call.Outcome.TRANSFERRED)),
        voicemail=Count("id", filter=Q(outcome=Call.Outcome.VOICEMAIL)),
        abandoned=Count("id", filter=Q(outcome=Call.Outcome.ABANDONED)),
        not_interested=Count("id", filter=Q(outcome=Call.Outcome.NOT_INTERESTED)),
        failed=Count("id", filter=Q(outcome=Call.Outcome.FAILED)),
        slow_first_audio=Count("id", filter=Q(slow_first_audio=True)),
        connected_seconds=Sum("duration_seconds", filter=Q(answered_at__isnull=False)),
    )
    contacts = dict(CampaignContact.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")).order_by())
    rate = abandoned_rate(campaign, now=now)
    return {
        "state": campaign.state,
        "calls": {k: v or 0 for k, v in calls.items()},
        "contacts": {state: contacts.get(state, 0) for state in CampaignContact.State.values},
        "gate": gate_counts(campaign),
        "abandoned_rate": {
            "rate": round(rate.rate, 4),
            "abandoned": rate.abandoned,
            "live": rate.live,
            "machines": rate.machines,
            "estimated_false_positives": round(rate.estimated_false_positives, 2),
            "slow_at": rate.slow_at,
            "pause_at": rate.pause_at,
            "limit": rate.limit,
        },
        "slowed": bool(campaign.slowed_at),
    }


# --- The REST API and outbound webhooks -------------------------------------------------------
# Every read starts from the caller's organisation, so another client's row is never found (P04).


def campaign_list(organisation, *, state: str = "") -> QuerySet[Campaign]:
    campaigns = campaigns_for(organisation).select_related("script_version").prefetch_related("contact_lists")
    return campaigns.filter(state=state) if state else campaigns


# --- Portal pages (campaigns.views) -----------------------------------------------------------

# The figures the campaign list and the dashboard show per campaign.
_LIST_FIGURES = {
    "dialled": Count("id", filter=~Q(status=Call.Status.CANCELLED)),
    "connected": Count("id", filter=Q(answered_at__isnull=False)),
    "completed": Count("id", filter=Q(outcome=Call.Outcome.COMPLETED_SCRIPT)),
    "opted_out": Count("id", filter=Q(outcome=Call.Outcome.OPTED_OUT)),
}


def campaign_figures(campaigns) -> dict[int, dict]:
    """For each campaign: calls dialled, connected, completed, opted out, contacts in all and
    finished, and the abandoned-call rate; three queries whatever the number of campaigns."""
    ids = [c.pk for c in campaigns]
    figures = {pk: {name: 0 for name in _LIST_FIGURES} | {"contacts": 0, "contacts_done": 0} for pk in ids}
    for row in Call.objects.filter(campaign_id__in=ids).values("campaign_id").annotate(**_LIST_FIGURES).order_by():
        figures[row.pop("campaign_id")].update(row)
    done = Q(state__in=[CampaignContact.State.DONE, CampaignContact.State.REFUSED])
    contacts = CampaignContact.objects.filter(campaign_id__in=ids).values("campaign_id")
    for row in contacts.annotate(contacts=Count("id"), contacts_done=Count("id", filter=done)).order_by():
        figures[row.pop("campaign_id")].update(row)
    for pk, rate in abandoned_rates(ids).items():
        figures[pk]["abandoned_rate"] = rate
    return figures


def live_campaigns(organisation) -> QuerySet[Campaign]:
    """Running, scheduled and paused campaigns: what the dashboard summarises."""
    live = [Campaign.State.RUNNING, Campaign.State.SCHEDULED, Campaign.State.PAUSED]
    return campaigns_for(organisation).filter(state__in=live)


def caller_ids_for(organisation) -> QuerySet[CallerId]:
    return CallerId.objects.filter(organisation=organisation)


def contact_lists_for(organisation) -> QuerySet[ContactList]:
    return ContactList.objects.filter(organisation=organisation)


def script_versions_of(campaign: Campaign) -> QuerySet[ScriptVersion]:
    return campaign.script_versions.select_related("campaign").order_by("-number")


def script_versions_for(organisation) -> QuerySet[ScriptVersion]:
    return ScriptVersion.objects.filter(campaign__organisation=organisation).select_related(
        "campaign__organisation", "campaign__caller_id"
    )


def campaign_contacts(campaign: Campaign, *, state: str = "", decision: str = "") -> QuerySet[CampaignContact]:
    contacts = CampaignContact.objects.filter(campaign=campaign).select_related("consumer").order_by("pk")
    if state:
        contacts = contacts.filter(state=state)
    if decision:
        contacts = contacts.filter(last_decision=decision)
    return contacts


def calls_for(organisation) -> QuerySet[Call]:
    calls = Call.objects.filter(organisation=organisation).select_related("consumer", "script_version", "recording")
    return calls.prefetch_related("responses")


def campaign_calls(
    campaign: Campaign,
    *,
    status: str = "",
    outcome: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Call]:
    """A campaign's calls, newest first; dates are days in the platform's time zone (London), both included."""
    calls = Call.objects.filter(campaign=campaign).select_related("consumer", "script_version")
    if status:
        calls = calls.filter(status=status)
    if outcome:
        calls = calls.filter(outcome=outcome)
    if date_from:
        calls = calls.filter(created_at__date__gte=date_from)
    if date_to:
        calls = calls.filter(created_at__date__lte=date_to)
    return calls.order_by("-created_at", "-id")


def webhook_endpoints_for(organisation) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organisation=organisation)


def webhook_endpoints_subscribed(organisation_id: int, event: str) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organisation_id=organisation_id, active=True, events__contains=[event])


def webhook_deliveries_of(endpoint: WebhookEndpoint, *, state: str = "", event: str = "") -> QuerySet[WebhookDelivery]:
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")
    if state:
        deliveries = deliveries.filter(state=state)
    if event:
        deliveries = deliveries.filter(event=event)
    return deliveries


def webhook_deliveries_due(*, now: datetime.datetime, limit: int) -> list[int]:
    due = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def gate_refusals(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(code, label, count) for each reason in a campaign's gate_counts() that refused anyone, most frequent first."""
    labels = dict(GateReason.choices)
    refused = [(code, labels[code], n) for code, n in counts.items() if code in labels and n]
    return sorted(refused, key=lambda item: (-item[2], item[1]))


@dataclass(frozen=True)
class OutcomeBucket:
    start: datetime.datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# A call that ended with no outcome was never answered (busy, no answer).
NOT_ANSWERED = "not_answered"
OUTCOME_SERIES = [*Call.Outcome.values, NOT_ANSWERED]
MAX_BUCKETS = 48


def outcomes_over_time(campaign: Campaign) -> tuple[str, list[OutcomeBucket]]:
    """Ended calls per hour (or per day, for a campaign that ran longer than two days) by outcome,
    in the campaign's time zone: ("hour" or "day", the last MAX_BUCKETS buckets, empty ones included)."""
    ended = Call.objects.filter(campaign=campaign, ended_at__isnull=False).exclude(status=Call.Status.CANCELLED)
    span = ended.aggregate(first=Min("ended_at"), last=Max("ended_at"))
    if span["first"] is None:
        return "hour", []
    unit = "hour" if span["last"] - span["first"] <= datetime.timedelta(hours=48) else "day"
    tz = calling_window.zone(campaign.timezone)
    rows = ended.annotate(bucket=Trunc("ended_at", unit, tzinfo=tz)).values("bucket", "outcome").annotate(n=Count("id"))
    counts: dict[datetime.datetime, dict[str, int]] = {}
    for row in rows.order_by():
        bucket = counts.setdefault(row["bucket"], dict.fromkeys(OUTCOME_SERIES, 0))
        bucket[row["outcome"] or NOT_ANSWERED] += row["n"]
    return unit, _with_empty_buckets(counts, unit, tz)


def _with_empty_buckets(counts: dict, unit: str, tz) -> list[OutcomeBucket]:
    """Every bucket from the first to the last (at most the last MAX_BUCKETS), empty ones with zeros."""
    first, last = min(counts).astimezone(tz), max(counts).astimezone(tz)
    starts = []
    while len(starts) < MAX_BUCKETS and last >= first:
        starts.append(last)
        last = _previous(last, unit, tz)
    empty = dict.fromkeys(OUTCOME_SERIES, 0)
    return [OutcomeBucket(start, counts.get(start, empty)) for start in reversed(starts)]


def _previous(start: datetime.datetime, unit: str, tz) -> datetime.datetime:
    if unit == "hour":
        # In UTC: an hour back across a clock change is still one hour.
        return (start.astimezone(datetime.UTC) - datetime.timedelta(hours=1)).astimezone(tz)
    # Calendar days, not 24-hour steps: a day across a clock change is 23 or 25 hours long.
    return datetime.datetime.combine(start.date() - datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)


def results(
    campaign: Campaign,
    *,
    outcome: str = "",
    status: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    response: tuple[str, str] | None = None,
) -> QuerySet[Call]:
    """The campaign's calls, newest first, filtered as the results table asks; dates are the campaign's local days."""
    calls = Call.objects.filter(campaign=campaign).select_related("consumer", "script_version")
    if outcome == NOT_ANSWERED:
        calls = calls.filter(outcome="")
    elif outcome:
        calls = calls.filter(outcome=outcome)
    if status:
        calls = calls.filter(status=status)
    tz = calling_window.zone(campaign.timezone)
    if since:
        calls = calls.filter(created_at__gte=datetime.datetime.combine(since, datetime.time(0), tzinfo=tz))
    if until:
        after = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
        calls = calls.filter(created_at__lt=after)
    if response:
        step_id, value = response
        calls = calls.filter(responses__step_id=step_id, responses__value=value)
    responses = CallResponse.objects.only("call_id", "step_id", "value")
    return calls.prefetch_related(Prefetch("responses", queryset=responses)).order_by("-created_at", "-id")


def response_choices(campaign: Campaign) -> list[tuple[str, str, str]]:
    """(step id, value, "question: label") for every answer of every script version, for filtering results by answer."""
    choices: dict[tuple[str, str], str] = {}
    for content in campaign.script_versions.order_by("-number").values_list("content", flat=True):
        for step in content.get("steps", []):
            for answer in step.get("answers", []):
                key = (step["id"], answer["value"])
                choices.setdefault(key, f"{Truncator(step['question']).chars(60)}: {answer['label']}")
    return [(step_id, value, label) for (step_id, value), label in choices.items()]


def call_for_detail(organisation, call_id: int) -> Call | None:
    return (
        Call.objects.filter(organisation=organisation, pk=call_id)
        .select_related("campaign__caller_id", "consumer", "script_version")
        .prefetch_related("responses")
        .first()
    )


def statements_for(organisation) -> QuerySet[UsageStatement]:
    return UsageStatement.objects.filter(organisation=organisation)


def usage_between(start: datetime.datetime, end: datetime.datetime) -> dict[int, list[dict]]:
    """Calls dialled in [start, end) per organisation and campaign: placed, connected, connected seconds. One query."""
    rows = (
        Call.objects.filter(dialled_at__gte=start, dialled_at__lt=end)
        .values("organisation_id", "campaign_id", "campaign__name")
        .annotate(
            placed=Count("id"),
            connected=Count("id", filter=Q(answered_at__isnull=False)),
            seconds=Sum("duration_seconds", filter=Q(answered_at__isnull=False), default=0),
        )
        .order_by("organisation_id", "campaign__name", "campaign_id")
    )
    usage: dict[int, list[dict]] = {}
    for row in rows:
        usage.setdefault(row.pop("organisation_id"), []).append(row)
    return usage
