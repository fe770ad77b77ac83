"""When a data-subject request must be answered (P42): pure date arithmetic, no database.

The rules, as the ICO reads UK GDPR Article 12(3):

- one month from the day we receive a *verified* request; we count it as 30
  calendar days, the shorter of any month, so we are never late in February;
- the clock stops while we wait for the requester (to prove who they are, or to
  clarify what they ask): each paused day is added back;
- for complex or numerous requests it may be extended by up to two further
  months (60 more days), with a recorded reason and a notice to the requester.

Days are UK calendar days (Europe/London): a request verified at 23:30 UTC on
30 June arrived on 1 July, because it was already 00:30 in London.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
RESPONSE_DAYS = 30
MAX_EXTENSION_DAYS = 60
DUE_SOON_DAYS = 7


class Standing:
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Pause:
    """The clock stopped from `start` until `end` (the day it ran again); `end` None: still stopped."""

    start: datetime.date
    end: datetime.date | None = None

    def __post_init__(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"A pause cannot end ({self.end}) before it starts ({self.start}).")


def uk_date(moment: datetime.datetime) -> datetime.date:
    """The UK calendar day of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("A naive datetime has no UK day: pass an aware one.")
    return moment.astimezone(UK).date()


def paused_days(pauses: Iterable[Pause], *, since: datetime.date, today: datetime.date) -> int:
    """Days the clock stood still after `since`: overlapping pauses count once, an open pause up to today."""
    spans = sorted((max(p.start, since), min(p.end or today, today)) for p in pauses)
    total, reached = 0, since
    for start, end in spans:
        start = max(start, reached)
        if end > start:
            total += (end - start).days
            reached = end
    return total


def check_extension(days: int) -> None:
    if not 0 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"An extension is between 0 and {MAX_EXTENSION_DAYS} days (two further months); {days} was asked.")


def due_date(
    *, verified_on: datetime.date, pauses: Iterable[Pause] = (), extension_days: int = 0, today: datetime.date
) -> datetime.date:
    """The last day to answer a request verified on `verified_on`, as things stand `today`.

    While a pause is open the due date moves on a day each day, as the clock is stopped.
    """
    check_extension(extension_days)
    stopped = paused_days(pauses, since=verified_on, today=max(today, verified_on))
    return verified_on + datetime.timedelta(days=RESPONSE_DAYS + extension_days + stopped)


def days_left(due: datetime.date, *, today: datetime.date) -> int:
    """Days until `due` (0 on the day itself, negative once overdue)."""
    return (due - today).days


def standing(due: datetime.date, *, today: datetime.date) -> str:
    left = days_left(due, today=today)
    if left < 0:
        return Standing.OVERDUE
    return Standing.DUE_SOON if left <= DUE_SOON_DAYS else Standing.ON_TRACK
