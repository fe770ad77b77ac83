"""Reads for the compliance back office."""

# --- Breaches and records ---------------------------------------------------------------------

import datetime
from dataclasses import dataclass

from django.utils import timezone

from nextsupport.models import AuditEvent

from . import breaches, events
from .models import Breach


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
