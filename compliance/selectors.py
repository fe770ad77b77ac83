"""Reads for the compliance back office."""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from nextsupport.models import AuditEvent

from . import breaches, deadlines, events
from .models import Breach, DataSubjectRequest, RequestPart

# --- Data-subject requests (for the admin and the compliance dashboard) ---


def _today(today: datetime.date | None) -> datetime.date:
    return today or deadlines.uk_date(timezone.now())


def requests_on_the_clock() -> QuerySet[DataSubjectRequest]:
    """Verified requests still being answered: the ones with a deadline that runs."""
    return DataSubjectRequest.objects.filter(state__in=DataSubjectRequest.CLOCK_STATES, due_on__isnull=False)


def requests_overdue(*, today: datetime.date | None = None) -> QuerySet[DataSubjectRequest]:
    return requests_on_the_clock().filter(due_on__lt=_today(today)).order_by("due_on")


def requests_due_soon(*, days: int = deadlines.DUE_SOON_DAYS, today: datetime.date | None = None) -> QuerySet[DataSubjectRequest]:
    """Due today or within `days` days, not yet overdue."""
    today = _today(today)
    return requests_on_the_clock().filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=days)).order_by("due_on")


def request_standing(dsr: DataSubjectRequest, *, today: datetime.date | None = None) -> str | None:
    """overdue / due_soon / on_track for a request on the clock; None otherwise (closed, or not verified)."""
    if dsr.state not in DataSubjectRequest.CLOCK_STATES or dsr.due_on is None:
        return None
    return deadlines.standing(dsr.due_on, today=_today(today))


def request_receipt(dsr: DataSubjectRequest, parts) -> list[dict]:
    """The request's receipt lines, each naming who the data is held for (NextSupport, or the client)."""
    names = {part.organisation_id: part.organisation.display_name for part in parts}
    return [
        {
            **line,
            "held_for": names.get(line["organisation_id"], "One of our clients") if line["organisation_id"] else "NextSupport",
        }
        for line in dsr.receipt
    ]


def request_by_reference(reference: str) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.filter(reference=reference).first()


def request_timeline(dsr: DataSubjectRequest, *, include_notes: bool = False):
    events = dsr.events.select_related("actor")
    return events if include_notes else events.exclude(kind="note")


def parts_for_organisation(organisation, *, state: str = "") -> QuerySet[RequestPart]:
    """The data-subject requests forwarded to one client (its inbox): only ever its own parts."""
    parts = RequestPart.objects.filter(organisation=organisation).select_related("request").order_by("state", "due_on", "-id")
    return parts.filter(state=state) if state else parts


def part_for_organisation(organisation, part_id) -> RequestPart | None:
    return parts_for_organisation(organisation).filter(pk=part_id).first()


# --- Breaches and records ---------------------------------------------------------------------


@dataclass(frozen=True)
class DueStep:
    breach: Breach
    step: breaches.Step
    state: str


def breach_steps_open(now: datetime.datetime | None = None) -> list[DueStep]:
    """Every step not yet done on an open breach, overdue first, then by due time."""
    now = now or timezone.now()
    found = [
        DueStep(breach, step, step.state(now))
        for breach in Breach.objects.filter(closed_at__isnull=True).prefetch_related("client_notices", "actions")
        for step in breaches.steps(breach)
        if step.is_open()
    ]
    return sorted(found, key=lambda d: (d.state != breaches.State.OVERDUE, d.step.due_at))


TIMELINE_LABELS = {
    events.BREACH_RECORDED: "Recorded in the register",
    events.BREACH_UPDATED: "Details changed",
    events.BREACH_ASSESSED: "Scope and risk assessed",
    events.BREACH_ICO_DECIDED: "ICO decision recorded",
    events.BREACH_CLIENTS_NOTIFIED: "Affected clients told",
    events.BREACH_INDIVIDUALS_INFORMED: "People affected told",
    events.BREACH_ACTION_ADDED: "Action added",
    events.BREACH_ACTION_DONE: "Action done",
    events.BREACH_CLOSED: "Closed",
    events.BREACH_ALERT_SENT: "Team alerted: a step was overdue",
    events.BREACH_EXPORTED: "ICO report exported",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    what: str
    who: str
    details: dict


def breach_timeline(breach: Breach) -> list[TimelineEntry]:
    """What happened and every step taken, in order: from the breach's own dates and the audit trail."""
    entries = [TimelineEntry(breach.aware_at, "NextSupport became aware", "", {})]
    if breach.occurred_at:
        entries.append(TimelineEntry(breach.occurred_at, "The breach happened", "", {}))
    trail = AuditEvent.objects.filter(target_type=breach._meta.label_lower, target_id=str(breach.pk)).select_related("actor")
    for event in trail.order_by("sequence"):
        who = event.actor.email if event.actor else event.actor_label
        entries.append(TimelineEntry(event.occurred_at, TIMELINE_LABELS.get(event.action, event.action), who, event.details))
    return sorted(entries, key=lambda e: e.at)
