"""When a person may be called: the campaign's window, in the person's own local time, without bank holidays.

A campaign says which weekdays and hours it calls (Europe/London, Monday to
Saturday, 09:00-20:00 unless the client changes it). The gate checks that
window in each consumer's own time zone, and skips the bank holidays of the
UK nation they live in, taken from the `holidays` package: Scotland's and
Northern Ireland's differ from England's and Wales's. When the nation is not
known (no postcode), a day that is a bank holiday anywhere in the UK is
skipped, so nobody is called on their holiday because we guessed wrong.

Pure functions: the gate calls them for thousands of people a second.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import cache

import holidays

# Marketing calls outside 08:00-21:00 are refused whatever the client asks
# (the DMA code and Ofcom's guidance on reasonable hours).
MARKETING_EARLIEST = datetime.time(8, 0)
MARKETING_LATEST = datetime.time(21, 0)

NATIONS = ("ENG", "WLS", "SCT", "NIR")
# Postcode areas in Scotland; Northern Ireland's is BT. (Wales shares England's bank holidays.)
_SCOTTISH_AREAS = frozenset({"AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE"})
_DEFAULT_ZONE = "Europe/London"


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: datetime.time
    end: datetime.time
    on_bank_holidays: bool = False

    @classmethod
    def of(cls, campaign) -> "Window":
        return cls(frozenset(campaign.calling_days), campaign.window_start, campaign.window_end, campaign.call_on_bank_holidays)


def nation_for_postcode(postcode: str | None) -> str | None:
    """ENG/SCT/NIR for a UK postcode (ENG stands for England and Wales), or None when unknown."""
    if not postcode:
        return None
    outward = postcode.strip().upper().split(" ")[0]
    area = "".join(ch for ch in outward[:2] if ch.isalpha())
    if not area:
        return None
    if area == "BT":
        return "NIR"
    if area in _SCOTTISH_AREAS or area[0] in _SCOTTISH_AREAS:
        return "SCT"
    return "ENG"


@cache
def _bank_holidays(year: int, nation: str | None) -> frozenset[datetime.date]:
    nations = NATIONS if nation is None else (nation,)
    days: set[datetime.date] = set()
    for subdivision in nations:
        days.update(holidays.country_holidays("GB", subdiv=subdivision, years=year).keys())
    return frozenset(days)


def is_bank_holiday(day: datetime.date, nation: str | None) -> bool:
    return day in _bank_holidays(day.year, nation)


@cache
def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The named time zone, or London's when the name is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(name or _DEFAULT_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(_DEFAULT_ZONE)


def _open_on(window: Window, day: datetime.date, nation: str | None) -> bool:
    if day.weekday() not in window.days:
        return False
    return window.on_bank_holidays or not is_bank_holiday(day, nation)


def is_open(window: Window, now: datetime.datetime, *, tz: zoneinfo.ZoneInfo, nation: str | None) -> bool:
    """May this person be called at `now` (aware), in their own time zone?"""
    local = now.astimezone(tz)
    return _open_on(window, local.date(), nation) and window.start <= local.time() < window.end


def next_opening(
    window: Window, now: datetime.datetime, *, tz: zoneinfo.ZoneInfo, nation: str | None
) -> datetime.datetime | None:
    """The first moment from `now` at which the window is open for this person (None if it never opens in a year)."""
    local = now.astimezone(tz)
    if is_open(window, now, tz=tz, nation=nation):
        return now
    day = local.date()
    for offset in range(367):
        candidate_day = day + datetime.timedelta(days=offset)
        if not _open_on(window, candidate_day, nation):
            continue
        opening = datetime.datetime.combine(candidate_day, window.start, tzinfo=tz)
        if offset == 0 and local.time() >= window.start:
            continue  # today's window has already closed
        return opening.astimezone(datetime.UTC)
    return None
