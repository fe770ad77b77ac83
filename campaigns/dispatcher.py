"""The dispatcher: every few seconds, claim due contacts, gate them, and hand the allowed ones to the provider.

    dispatch_due(now=..., limit=...)   one tick (Celery beat runs it every few seconds)
    reconcile_stale(now=...)           calls the provider never reported back on

Two workers never dial the same contact: each campaign is worked on by one
dispatcher at a time (its row is taken with FOR UPDATE SKIP LOCKED, so a
second worker moves on to another campaign rather than wait), and the due
contacts themselves are claimed with FOR UPDATE SKIP LOCKED. A contact's
claim, its gate decision and its Call commit together; the dial happens after
commit, in a task that claims the Call with a conditional UPDATE. So a worker
killed mid-batch loses nothing (the transaction rolls back, the contacts are
still due) and dials nobody twice.

Concurrency: a campaign has at most `max_concurrent_calls` on the line (halved
while its abandoned-call rate is high), and an organisation at most its
CallingLimit across campaigns; the organisation is locked while a batch is
counted so two campaigns of one client cannot both take the last slot.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import calls, gate, selectors, services, tasks, telephony
from .models import Call, Campaign, CampaignContact

log = logging.getLogger(__name__)
# Not the phone: its blind index (which the gate compares) is computed from it.
_UNUSED_CONSUMER_FIELDS = ("name", "email", "date_of_birth", "restriction_reason")
_ORGANISATION_LOCK = 0x4E53_4341  # "NSCA": with the organisation id, one dispatcher counts an organisation's calls at a time


@dataclass
class DispatchReport:
    campaigns: int = 0
    claimed: int = 0
    dialled: int = 0
    deferred: int = 0
    refused: int = 0
    paused: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)

    def add(self, other: "DispatchReport") -> None:
        self.claimed += other.claimed
        self.dialled += other.dialled
        self.deferred += other.deferred
        self.refused += other.refused


def dispatch_due(*, now: datetime.datetime | None = None, limit: int | None = None) -> DispatchReport:
    """One tick over every running campaign."""
    now = now or timezone.now()
    report = DispatchReport()
    for campaign in selectors.scheduled_campaigns():
        services.campaign_start_scheduled(campaign=campaign, now=now)
    for campaign in selectors.campaigns_past_end_date(now):
        if services.campaign_complete(campaign=campaign, why="end_date"):
            report.completed.append(campaign.pk)
    campaigns = list(selectors.running_campaigns())
    rates = selectors.abandoned_rates([c.pk for c in campaigns], now=now)
    for campaign in campaigns:
        if _pace(campaign, rates[campaign.pk]):
            report.paused.append(campaign.pk)
            continue
        report.campaigns += 1
        report.add(dispatch_campaign(campaign, now=now, limit=limit or settings.CAMPAIGN_DISPATCH_BATCH))
    for campaign in selectors.finished_running_campaigns():
        if services.campaign_complete(campaign=campaign, why="all_contacts_done"):
            report.completed.append(campaign.pk)
    return report


def _pace(campaign: Campaign, rate: selectors.AbandonedRate) -> bool:
    """Slow, then pause, a campaign before its abandoned-call rate reaches Ofcom's 3%. True when paused."""
    if rate.rate >= rate.pause_at:
        log.warning("Campaign %s paused: abandoned-call rate %.2f%% over 24 h.", campaign.pk, 100 * rate.rate)
        services.campaign_pause(campaign=campaign, reason=Campaign.PauseReason.ABANDONED_RATE)
        return True
    slowed = rate.rate >= rate.slow_at
    if slowed != bool(campaign.slowed_at):
        services.campaign_slow(campaign=campaign, slowed=slowed)
        campaign.refresh_from_db(fields=["slowed_at"])
    return False


def _claim(campaign: Campaign, count: int, now: datetime.datetime) -> list[CampaignContact]:
    """Due contacts of the campaign, locked for this transaction; ones another worker holds are skipped."""
    return list(
        CampaignContact.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("consumer")
        # The gate needs the consumer's number index, time zone, postcode and flags; decrypting
        # names, numbers and e-mails of a whole batch for nothing would be most of its cost.
        .defer(*(f"consumer__{name}" for name in _UNUSED_CONSUMER_FIELDS))
        .filter(campaign=campaign, state=CampaignContact.State.WAITING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:count]
    )


def _free_slots(campaign: Campaign) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ORGANISATION_LOCK, campaign.organisation_id])
    on_campaign, on_organisation = selectors.on_the_line(campaign)
    return min(
        selectors.effective_concurrency(campaign) - on_campaign,
        selectors.organisation_call_limit(campaign.organisation_id) - on_organisation,
    )


def dispatch_campaign(campaign: Campaign, *, now: datetime.datetime, limit: int) -> DispatchReport:
    """One batch of one campaign, in one transaction; the dials go out after it commits."""
    report = DispatchReport()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organisation", "caller_id")
            .filter(pk=campaign.pk, state=Campaign.State.RUNNING)
            .first()
        )
        if locked is None:
            return report  # another dispatcher has it, or it stopped meanwhile
        free = _free_slots(locked)
        if free <= 0:
            return report
        # Claim more than the free slots: refusals (outside the window, say) need no slot,
        # and deciding them now keeps them from being claimed again every tick.
        contacts = _claim(locked, limit, now)
        for contact in contacts:
            contact.campaign = locked
        decisions = gate.decide(locked, contacts, now=now)
        for call_id in _record(locked, contacts, decisions, free, now, report):
            tasks.place_call.delay_on_commit(call_id)
    return report


def _record(campaign, contacts, decisions, free, now, report) -> list[int]:
    """Keep every decision on its contact and in the tallies; create a Call for each allowed one that fits."""
    by_id = {c.pk: c for c in contacts}
    tallies: dict[str, int] = {}
    changed, new_calls = [], []
    for decision in decisions:
        contact = by_id[decision.contact_id]
        if decision.allowed and len(new_calls) >= free:
            continue  # allowed, but no slot left: it stays due, untouched, for the next tick
        report.claimed += 1
        tallies[decision.reason] = tallies.get(decision.reason, 0) + 1
        contact.last_decision = decision.reason
        if decision.allowed:
            contact.state, contact.attempts = CampaignContact.State.IN_CALL, contact.attempts + 1
            new_calls.append(contact)
        elif decision.final:
            contact.state, contact.outcome = CampaignContact.State.REFUSED, decision.reason
            report.refused += 1
        else:
            contact.next_attempt_at = decision.retry_at
            report.deferred += 1
        changed.append(contact)
    _update_contacts(changed, now)
    call_ids = _insert_calls(campaign, new_calls, now)
    services.gate_tally(campaign_id=campaign.pk, counts=tallies)
    report.dialled += len(call_ids)
    return call_ids


# Two set-based statements for the batch. (QuerySet.bulk_update builds a CASE per row and
# field: at 500 contacts it took over a second; bulk_create's 25 parameters a row, ~0.4 s.)


def _update_contacts(contacts: list[CampaignContact], now) -> None:
    if not contacts:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CampaignContact._meta.db_table} AS cc SET state = t.state, attempts = t.attempts, "  # noqa: S608
            "next_attempt_at = t.next_at, last_decision = t.decision, outcome = t.outcome, last_decided_at = %s, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::timestamptz[], %s::text[], %s::text[]) "
            "AS t(id, state, attempts, next_at, decision, outcome) WHERE cc.id = t.id",
            [
                now,
                now,
                [c.pk for c in contacts],
                [c.state for c in contacts],
                [c.attempts for c in contacts],
                [c.next_attempt_at for c in contacts],
                [c.last_decision for c in contacts],
                [c.outcome for c in contacts],
            ],
        )


def _insert_calls(campaign: Campaign, contacts: list[CampaignContact], now) -> list[int]:
    """A Call for each allowed contact: its attempt, the campaign's script version, the gate's decision."""
    if not contacts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Call._meta.db_table} (organisation_id, campaign_id, contact_id, consumer_id, phone_index, attempt, "  # noqa: S608
            "script_version_id, gate_decision, decided_at, provider, records, status, outcome, failure_reason, created_at, "
            "slow_first_audio, answered_by, conversation_state) "
            "SELECT %s, %s, t.contact, t.consumer, t.phone_index, t.attempt, %s, %s, %s, %s, %s, %s, '', '', %s, false, '', '{}' "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::int[]) AS t(contact, consumer, phone_index, attempt) "
            "RETURNING id",
            [
                campaign.organisation_id,
                campaign.pk,
                campaign.script_version_id,
                gate.ALLOWED,
                now,
                telephony.provider().name,
                campaign.record_calls,
                Call.Status.QUEUED,
                now,
                [c.pk for c in contacts],
                [c.consumer_id for c in contacts],
                [c.consumer.phone_index for c in contacts],
                [c.attempts for c in contacts],
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def reconcile_stale(*, now: datetime.datetime | None = None) -> dict[str, int]:
    return calls.calls_reconcile_stale(now=now)
