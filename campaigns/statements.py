"""Monthly usage statements (P12): built once per organisation and month, e-mailed once.

    usage_statements_build(now=...)   last month's statement for every organisation that placed calls

A daily beat task calls it; only the first run after a month closes does
anything. The statement row and its e-mail notice are written in one
transaction per organisation, so a statement always has its notice and a
repeat (a second worker, a re-run after a crash) finds the statement and
sends nothing: `accounts.services.organisation_notify` keys its notice by the
message as well. Statements hold counts and campaign names, never anyone's
personal data.
"""

import calendar
import datetime
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Organisation
from accounts.selectors import Topic
from nextsupport.mail import absolute

from . import selectors
from .models import UsageStatement

# Statements follow the UK calendar month, whatever the time zone of the people called.
STATEMENT_ZONE = zoneinfo.ZoneInfo("Europe/London")
# A call dialled just before midnight at the month's end may still be on the line, and the
# reconciler gives up on a silent call after 2 hours: by 06:00 on the 1st the figures are final.
MONTH_CLOSES_AFTER = datetime.timedelta(hours=6)
_MINUTE = Decimal(60)
_CENTS = Decimal("0.01")


def closed_month(now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the latest month whose figures are final at `now`."""
    local = (now - MONTH_CLOSES_AFTER).astimezone(STATEMENT_ZONE)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / _MINUTE).quantize(_CENTS, rounding=ROUND_HALF_UP)


def usage_statements_build(*, now: datetime.datetime | None = None) -> list[UsageStatement]:
    """Build and e-mail last month's statement for every organisation with calls in it; returns the new ones."""
    start, end = closed_month(now or timezone.now())
    begins = datetime.datetime.combine(start, datetime.time(0), tzinfo=STATEMENT_ZONE)
    ends = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(0), tzinfo=STATEMENT_ZONE)
    usage = selectors.usage_between(begins, ends)
    already = set(
        UsageStatement.objects.filter(period_start=start, period_end=end, organisation_id__in=list(usage)).values_list(
            "organisation_id", flat=True
        )
    )
    built = []
    for organisation in Organisation.objects.filter(pk__in=set(usage) - already).order_by("pk"):
        statement = _statement_create(organisation=organisation, start=start, end=end, rows=usage[organisation.pk])
        if statement is not None:
            built.append(statement)
    return built


@transaction.atomic
def _statement_create(*, organisation, start, end, rows: list[dict]) -> UsageStatement | None:
    lines = [
        {
            "campaign": row["campaign_id"],
            "name": row["campaign__name"],
            "calls_placed": row["placed"],
            "calls_connected": row["connected"],
            "connected_minutes": str(minutes(row["seconds"])),
        }
        for row in rows
    ]
    statement, created = UsageStatement.objects.get_or_create(
        organisation=organisation,
        period_start=start,
        period_end=end,
        defaults={
            "calls_placed": sum(row["placed"] for row in rows),
            "calls_connected": sum(row["connected"] for row in rows),
            "connected_minutes": minutes(sum(row["seconds"] for row in rows)),
            "campaign_lines": lines,
        },
    )
    if not created:
        return None  # another worker built it meanwhile, and queued its e-mail
    account_services.organisation_notify(
        organisation=organisation,
        topic=Topic.USAGE_STATEMENTS,
        subject=statement_subject(statement),
        body=statement_text(statement),
    )
    return statement


def statement_subject(statement: UsageStatement) -> str:
    return f"Usage statement for {statement.period_start:%B %Y}"


def statement_text(statement: UsageStatement) -> str:
    """The e-mail's message: the figures, by campaign, and where to download them."""
    period = f"{statement.period_start.day} to {statement.period_end.day} {statement.period_end:%B %Y}"
    lines = [
        f"Your NextSupport usage for {period}, UK time:",
        "",
        f"Calls placed: {statement.calls_placed:,}",
        f"Calls connected: {statement.calls_connected:,}",
        f"Connected minutes: {statement.connected_minutes:,}",
        "",
        "By campaign:",
    ]
    lines += [
        f"- {line['name']}: {line['calls_placed']:,} placed, {line['calls_connected']:,} connected, "
        f"{Decimal(line['connected_minutes']):,} minutes"
        for line in statement.campaign_lines
    ]
    url = absolute(reverse("campaigns:statements", args=[statement.organisation_id]))
    lines += ["", f"The statement is in the portal, with a CSV download: {url}"]
    return "\n".join(lines)
