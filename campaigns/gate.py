"""The pre-call compliance gate: the only place that decides whether a person may be called now.

Every dial and every retry goes through `decide()` (the dispatcher, for a
batch of claimed contacts) or `decide_one()` (the moment before a dial). It is
read-only and returns, for each contact, allow or refuse with exactly one
reason code (`GateReason`), chosen in this order:

    the account may not launch calls        accounts.selectors.launch_blockers
    the campaign is not running / past its end date
    the caller ID is not verified           P50
    attempts exhausted
    not on the campaign's lists             P05
    restricted or objected                  P38, P40
    on a do-not-call list (client's or ours) P40
    registered with the TPS/CTPS            P49 (marketing)
    no current consent, to this client, to automated marketing calls   P18 (PECR reg. 19: an AI voice is not live speech)
    the list may not be used (attestation, import)   P19
    TPS/CTPS screening older than 28 days   P49
    an abandoned call to the number in the last 72 hours     Ofcom
    an answering machine on the number in the last 24 hours  Ofcom
    outside the calling window in the person's local time

Refusals that cannot change for this campaign come first; those that pass
with time ("retry at") last, so a deferred contact is always one that may be
called later. The queries are fixed per batch, not per contact or per rule:
the account's state, the campaign's lists, the consumer rules
(`consumers.selectors.call_refusals_among`) and one look at recent calls.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.utils import timezone

from accounts.selectors import launch_blockers
from consumers import selectors as consumer_rules
from consumers.models import Consumer
from consumers.selectors import with_usability

from . import calling_window
from .models import Call, Campaign, CampaignContact, GateReason

ALLOWED = "allowed"
ABANDONED_GAP = datetime.timedelta(hours=72)
MACHINE_GAP = datetime.timedelta(hours=24)
# Refusals that end a contact's part in the campaign: nothing will change them while it runs.
FINAL = frozenset(
    {
        GateReason.ATTEMPTS_EXHAUSTED,
        GateReason.NOT_ON_LIST,
        GateReason.STOPPED,
        GateReason.SUPPRESSED,
        GateReason.TPS_REGISTERED,
        GateReason.NO_CONSENT,
    }
)
# The consumers app's codes, in the gate's order of precedence.
_CONSUMER_ORDER = (
    GateReason.NOT_ON_LIST,
    GateReason.STOPPED,
    GateReason.SUPPRESSED,
    GateReason.TPS_REGISTERED,
    GateReason.NO_CONSENT,
    GateReason.LIST_UNUSABLE,
    GateReason.SCREENING_STALE,
)
# How long a contact waits before the gate looks again at a refusal that lifts by itself
# (an account re-approved, a list re-screened, a caller ID verified).
RECHECK_AFTER = datetime.timedelta(minutes=15)


@dataclass(frozen=True)
class Decision:
    contact_id: int
    reason: str  # ALLOWED or a GateReason
    message: str = ""
    # When a deferred contact may next be tried; None for allowed and final refusals.
    retry_at: datetime.datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.reason == ALLOWED

    @property
    def final(self) -> bool:
        return self.reason in FINAL


def campaign_refusal(campaign: Campaign, now: datetime.datetime) -> tuple[str, str] | None:
    blockers = launch_blockers(campaign.organisation)
    if blockers:
        return GateReason.ORGANISATION_BLOCKED, blockers[0]
    if campaign.state != Campaign.State.RUNNING:
        return GateReason.CAMPAIGN_NOT_RUNNING, f"The campaign is {campaign.get_state_display().lower()}."
    today = timezone.localdate(now, calling_window.zone(campaign.timezone))
    if campaign.end_date and today > campaign.end_date:
        return GateReason.CAMPAIGN_NOT_RUNNING, "The campaign's end date has passed."
    if campaign.caller_id is None or not campaign.caller_id.is_verified:
        return GateReason.CALLER_ID_UNVERIFIED, "The campaign's caller ID is not verified."
    return None


# By consumer id, comparing the stored blind indexes in SQL: nothing decrypted or hashed per person.
_RECENT_CALLS_SQL = (
    "SELECT c.id, max(k.ended_at) FILTER (WHERE k.outcome = %s), "  # noqa: S608 (our table names; values are parameters)
    "max(k.ended_at) FILTER (WHERE k.answered_by LIKE 'machine%%' OR k.answered_by = 'fax') "
    f"FROM {Consumer._meta.db_table} c JOIN {Call._meta.db_table} k "
    "ON k.organisation_id = c.organisation_id AND k.phone_index = c.phone_index AND k.ended_at >= %s "
    "WHERE c.id = ANY(%s) GROUP BY c.id"
)


def _recent_calls(consumer_ids: list[int], now: datetime.datetime) -> dict[int, tuple]:
    """For each consumer, when the client's last abandoned call and last answering-machine call to the number ended (72 h back)."""
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_CALLS_SQL, [Call.Outcome.ABANDONED, now - ABANDONED_GAP, consumer_ids])
        return {consumer_id: (abandoned, machine) for consumer_id, abandoned, machine in cursor.fetchall()}


def _first_consumer_refusal(refusals) -> tuple[str, str] | None:
    by_code = {}
    for refusal in refusals:
        by_code.setdefault(refusal.code, refusal.message)
    for code in _CONSUMER_ORDER:
        if code in by_code:
            return code, by_code[code]
    return None


def _window_for(campaign: Campaign, now: datetime.datetime):
    """reopens(zone, nation): None while the window is open for people there, else when it opens.

    `now` is one moment for the whole batch, so the answer depends only on the
    person's time zone and nation: worked out once for each pair, not per person.
    """
    window = calling_window.Window.of(campaign)

    @cache
    def reopens(zone_name: str, nation: str | None) -> datetime.datetime | None:
        tz = calling_window.zone(zone_name)
        if calling_window.is_open(window, now, tz=tz, nation=nation):
            return None
        return calling_window.next_opening(window, now, tz=tz, nation=nation) or now + RECHECK_AFTER

    return reopens


def _decide_contact(contact, campaign, reopens, refusals, recent, now, *, dialling: bool) -> Decision:
    consumer = contact.consumer
    if not dialling and contact.attempts >= campaign.max_attempts:
        return Decision(contact.pk, GateReason.ATTEMPTS_EXHAUSTED, f"All {campaign.max_attempts} attempts have been made.")
    refused = _first_consumer_refusal(refusals.get(consumer.pk, []))
    if refused:
        code, message = refused
        return Decision(contact.pk, code, message, None if code in FINAL else now + RECHECK_AFTER)
    abandoned_at, machine_at = recent.get(consumer.pk, (None, None))
    if abandoned_at and now - abandoned_at < ABANDONED_GAP:
        return Decision(
            contact.pk,
            GateReason.RECENT_ABANDONED,
            "A call to this number was abandoned less than 72 hours ago.",
            abandoned_at + ABANDONED_GAP,
        )
    if machine_at and now - machine_at < MACHINE_GAP:
        return Decision(
            contact.pk,
            GateReason.RECENT_MACHINE,
            "An answering machine took a call to this number less than 24 hours ago.",
            machine_at + MACHINE_GAP,
        )
    opens = reopens(consumer.timezone or campaign.timezone, calling_window.nation_for_postcode(consumer.postcode))
    if opens is not None:
        return Decision(contact.pk, GateReason.OUTSIDE_WINDOW, "Outside the calling window in the person's local time.", opens)
    return Decision(contact.pk, ALLOWED)


def decide(
    campaign: Campaign, contacts: Sequence[CampaignContact], *, now: datetime.datetime | None = None, dialling: bool = False
) -> list[Decision]:
    """A decision for each contact (their `consumer` loaded), in their order.

    `dialling` is the check just before a dial of a contact already claimed
    (its attempt already counted), so attempts are not counted twice.
    """
    now = now or timezone.now()
    if not contacts:
        return []
    refused = campaign_refusal(campaign, now)
    if refused:
        code, message = refused
        return [Decision(c.pk, code, message, now + RECHECK_AFTER) for c in contacts]
    lists = list(with_usability(campaign.contact_lists.all()))
    consumers = [c.consumer for c in contacts]
    refusals = consumer_rules.call_refusals_among(consumers, contact_lists=lists, now=now)
    recent = _recent_calls([c.pk for c in consumers], now)
    reopens = _window_for(campaign, now)
    return [_decide_contact(c, campaign, reopens, refusals, recent, now, dialling=dialling) for c in contacts]


def decide_one(contact: CampaignContact, *, now: datetime.datetime | None = None, dialling: bool = False) -> Decision:
    """The gate for one contact: a batch of one."""
    return decide(contact.campaign, [contact], now=now, dialling=dialling)[0]
