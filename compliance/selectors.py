"""Reads of the compliance app."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from . import deadlines
from .models import DataSubjectRequest, RequestPart

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
