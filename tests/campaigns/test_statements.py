"""Monthly usage statements (P12): last month's calls per organisation and campaign, built once,
e-mailed once to the billing contact and the members who chose statements, and in the portal."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from campaigns import statements, tasks
from campaigns.models import Call, UsageStatement
from tests.campaigns.conftest import LONDON
from tests.campaigns.pages import signed_in, text_of
from tests.factories import CallFactory, CampaignFactory, MembershipFactory

# The suite's clock: Tuesday 1 December 2026, 10:00 in London. November has closed.
NOVEMBER = (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))


def at(day, hour=12, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def call(campaign, dialled, *, seconds=None, answered=True, **fields):
    """A call of `campaign` dialled at `dialled`: answered and lasting `seconds`, or not answered."""
    if not answered:
        fields.update(answered_at=None, first_audio_at=None, duration_seconds=None, status=Call.Status.NO_ANSWER, outcome="")
    else:
        fields.update(duration_seconds=seconds)
    return CallFactory(organisation=campaign.organisation, campaign=campaign, dialled_at=dialled, **fields)


@pytest.fixture
def november(organisation):
    """Two campaigns' calls around November: 3 placed in it (2 connected, 90 s and 45 s), one either side."""
    boilers = CampaignFactory(organisation=organisation, name="Boiler follow-up")
    offers = CampaignFactory(organisation=organisation, name="Winter offer", caller_id=boilers.caller_id)
    call(boilers, at(datetime.date(2026, 11, 1), 0, 5), seconds=90)
    call(boilers, at(datetime.date(2026, 11, 30), 23, 55), answered=False)
    call(offers, at(datetime.date(2026, 11, 15)), seconds=45)
    call(boilers, at(datetime.date(2026, 10, 31), 23, 59), seconds=600)  # October, London time
    call(offers, at(datetime.date(2026, 12, 1), 0, 1), seconds=600)  # December
    return boilers, offers


def build(capture, now=None):
    with capture(execute=True):
        return statements.usage_statements_build(now=now)


@pytest.mark.obligation("P12")
def test_last_months_statement_counts_calls_placed_connected_and_minutes_per_campaign(
    november, organisation, django_capture_on_commit_callbacks
):
    boilers, offers = november

    built = build(django_capture_on_commit_callbacks)

    assert len(built) == 1
    statement = UsageStatement.objects.get(organisation=organisation)
    assert (statement.period_start, statement.period_end) == NOVEMBER
    assert (statement.calls_placed, statement.calls_connected, statement.connected_minutes) == (3, 2, Decimal("2.25"))
    assert statement.campaign_lines == [
        {
            "campaign": boilers.pk,
            "name": "Boiler follow-up",
            "calls_placed": 2,
            "calls_connected": 1,
            "connected_minutes": "1.50",
        },
        {"campaign": offers.pk, "name": "Winter offer", "calls_placed": 1, "calls_connected": 1, "connected_minutes": "0.75"},
    ]


@pytest.mark.obligation("P12")
def test_the_statement_is_e_mailed_once_to_the_billing_contact_and_members_who_chose_statements(
    november, organisation, owner, teammate, django_capture_on_commit_callbacks
):
    organisation.billing_email = "accounts@acme.example"
    organisation.save()
    owner.memberships.update(notify_usage_statements=True)  # the teammate did not choose statements

    build(django_capture_on_commit_callbacks)
    again = build(django_capture_on_commit_callbacks)

    assert again == [] and UsageStatement.objects.count() == 1
    assert sorted(message.to[0] for message in mail.outbox) == ["accounts@acme.example", "owner@acme.example"]
    message = mail.outbox[0]
    assert message.subject == "NextSupport: Usage statement for November 2026"
    assert "Your NextSupport usage for 1 to 30 November 2026, UK time:" in message.body
    assert "Calls placed: 3\nCalls connected: 2\nConnected minutes: 2.25" in message.body
    assert "- Boiler follow-up: 2 placed, 1 connected, 1.50 minutes" in message.body
    assert f"/app/o/{organisation.pk}/campaigns/statements/" in message.body


@pytest.mark.obligation("P12")
def test_a_statement_holds_counts_and_campaign_names_never_anyones_data(
    november, organisation, django_capture_on_commit_callbacks
):
    build(django_capture_on_commit_callbacks)
    people = [c.consumer for c in Call.objects.filter(organisation=organisation)]

    statement = UsageStatement.objects.get()
    written = repr(statement.campaign_lines) + statements.statement_text(statement)  # what is e-mailed
    assert not [p for p in people if p.name in written or p.phone in written or p.phone[-6:] in written]


def test_nothing_is_built_until_the_month_has_closed_and_only_for_organisations_that_called(
    november, organisation, other_organisation, django_capture_on_commit_callbacks
):
    # Just after midnight a call of the month's last minutes may still be on the line: October is the last closed month.
    early = build(django_capture_on_commit_callbacks, now=at(datetime.date(2026, 12, 1), 3))
    later = build(django_capture_on_commit_callbacks, now=at(datetime.date(2026, 12, 1), 7))

    assert [(s.organisation, s.period_start) for s in early] == [(organisation, datetime.date(2026, 10, 1))]
    assert [(s.organisation, s.period_start) for s in later] == [(organisation, datetime.date(2026, 11, 1))]
    assert not UsageStatement.objects.filter(organisation=other_organisation).exists()


def test_january_closes_december_of_the_year_before():
    assert statements.closed_month(at(datetime.date(2027, 1, 2))) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert statements.closed_month(at(datetime.date(2027, 3, 1), 9)) == (datetime.date(2027, 2, 1), datetime.date(2027, 2, 28))


@pytest.mark.obligation("P12")
def test_the_daily_beat_task_builds_the_statements(november, organisation, django_capture_on_commit_callbacks):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "campaigns.tasks.build_usage_statements")

    with django_capture_on_commit_callbacks(execute=True):
        built = tasks.build_usage_statements.delay().get()

    assert entry["schedule"].hour == {7} and entry["schedule"].minute == {0}
    assert built == 1 and UsageStatement.objects.filter(organisation=organisation).count() == 1


@pytest.mark.obligation("P12", "P04")
def test_members_read_statements_in_the_portal_and_download_them_as_csv(
    november, organisation, teammate, outsider, django_capture_on_commit_callbacks
):
    build(django_capture_on_commit_callbacks)
    statement = UsageStatement.objects.get()
    viewer = signed_in(teammate)

    page = text_of(viewer.get(reverse("campaigns:statements", args=[organisation.pk])))
    download = viewer.get(reverse("campaigns:statement-csv", args=[organisation.pk, statement.pk]))

    assert '<th scope="row">November 2026</th>' in page and "Boiler follow-up: 2 placed, 1 connected, 1.50 minutes" in page
    assert download["Content-Disposition"] == 'attachment; filename="usage-2026-11.csv"'
    assert list(csv.reader(io.StringIO(text_of(download).lstrip("\ufeff")))) == [
        ["Campaign", "Calls placed", "Calls connected", "Connected minutes"],
        ["Boiler follow-up", "2", "1", "1.50"],
        ["Winter offer", "1", "1", "0.75"],
        ["All campaigns", "3", "2", "2.25"],
    ]
    outsider_browser = signed_in(outsider)
    assert outsider_browser.get(reverse("campaigns:statement-csv", args=[organisation.pk, statement.pk])).status_code == 404
    own = MembershipFactory(organisation=outsider.memberships.get().organisation).organisation
    assert outsider_browser.get(reverse("campaigns:statement-csv", args=[own.pk, statement.pk])).status_code == 404
