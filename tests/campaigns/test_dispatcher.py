"""The dispatcher: pacing by the abandoned-call rate, a worker killed mid-batch, and two workers at once."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench.import_worker import database_url
from campaigns import dispatcher, gate, services
from campaigns.models import Call, CallingLimit, Campaign, CampaignContact, GateTally
from campaigns.telephony.simulator import Persona, example_number
from tests.campaigns.conftest import TUESDAY_10AM, launched

ROOT = Path(__file__).resolve().parent.parent.parent


def finished_calls(campaign, *, live: int, abandoned: int = 0, machines: int = 0, hours_ago: float = 1):
    """Calls that ended in the last 24 hours: answered by people, abandoned, or taken by machines."""
    ended = TUESDAY_10AM - datetime.timedelta(hours=hours_ago)
    contact = campaign.contacts.first()
    rows = [("human", Call.Outcome.COMPLETED_SCRIPT)] * live + [("human", Call.Outcome.ABANDONED)] * abandoned
    rows += [("machine_start", Call.Outcome.VOICEMAIL)] * machines
    Call.objects.bulk_create(
        Call(
            organisation=campaign.organisation,
            campaign=campaign,
            contact=contact,
            attempt=1,
            script_version=campaign.script_version,
            decided_at=ended,
            provider="simulator",
            status=Call.Status.COMPLETED,
            outcome=outcome,
            answered_by=answered_by,
            answered_at=ended - datetime.timedelta(minutes=2),
            ended_at=ended,
        )
        for answered_by, outcome in rows
    )


@pytest.fixture
def busy_campaign(organisation, owner):
    numbers = [example_number(Persona.COOPERATIVE, i) for i in range(10)]
    return launched(organisation, owner, numbers=numbers, max_concurrent_calls=8)


@pytest.mark.obligation("P11")
def test_a_campaign_is_paused_before_its_abandoned_rate_reaches_three_percent(busy_campaign):
    finished_calls(busy_campaign, live=39, abandoned=1)  # 2.5%

    report = dispatcher.dispatch_due()

    busy_campaign.refresh_from_db()
    assert busy_campaign.pk in report.paused
    assert (busy_campaign.state, busy_campaign.pause_reason) == (Campaign.State.PAUSED, Campaign.PauseReason.ABANDONED_RATE)
    assert report.dialled == 0


def test_a_paused_by_rate_campaign_cannot_resume_until_the_rate_falls(busy_campaign, owner, tuesday_morning):
    from django.core.exceptions import ValidationError

    finished_calls(busy_campaign, live=39, abandoned=1)
    dispatcher.dispatch_due()

    with pytest.raises(ValidationError, match="abandoned-call rate"):
        services.campaign_resume(campaign=busy_campaign, by=owner)
    tuesday_morning.shift(datetime.timedelta(hours=24))
    assert services.campaign_resume(campaign=busy_campaign, by=owner).state == Campaign.State.RUNNING


def test_a_campaign_is_slowed_as_its_abandoned_rate_rises(busy_campaign):
    finished_calls(busy_campaign, live=80, abandoned=1)  # 1.2%: slower, not paused

    report = dispatcher.dispatch_due()

    busy_campaign.refresh_from_db()
    assert busy_campaign.slowed_at is not None and busy_campaign.state == Campaign.State.RUNNING
    assert report.dialled == 4  # half of 8 at once


def test_answering_machine_false_positives_count_towards_the_rate(busy_campaign, settings):
    settings.AMD_FALSE_POSITIVE_RATE = 0.1
    finished_calls(busy_campaign, live=40, machines=11)  # 1.1 estimated people hung up on: 2.7%

    dispatcher.dispatch_due()

    busy_campaign.refresh_from_db()
    assert busy_campaign.state == Campaign.State.PAUSED


def test_the_false_positive_estimate_waits_for_enough_answered_calls(busy_campaign, settings):
    settings.AMD_FALSE_POSITIVE_RATE = 0.1
    finished_calls(busy_campaign, live=2, machines=3)  # an estimate over five calls would read 13%

    dispatcher.dispatch_due()

    busy_campaign.refresh_from_db()
    assert (busy_campaign.state, busy_campaign.slowed_at) == (Campaign.State.RUNNING, None)


def test_every_decision_is_kept_on_the_contact_and_counted(busy_campaign, organisation, owner):
    sunday = datetime.datetime(2026, 12, 6, 11, 0, tzinfo=TUESDAY_10AM.tzinfo)
    CampaignContact.objects.filter(campaign=busy_campaign).update(next_attempt_at=sunday - datetime.timedelta(hours=1))

    report = dispatcher.dispatch_due(now=sunday)

    assert report.deferred == 10
    assert set(busy_campaign.contacts.values_list("last_decision", flat=True)) == {"outside_window"}
    assert GateTally.objects.get(campaign=busy_campaign, decision="outside_window").count == 10
    # Deferred to Monday 09:00, when the window opens.
    assert set(busy_campaign.contacts.values_list("next_attempt_at", flat=True)) == {
        datetime.datetime(2026, 12, 7, 9, 0, tzinfo=TUESDAY_10AM.tzinfo)
    }


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way up handles it."""


def test_a_dispatcher_killed_mid_batch_loses_no_contact_and_dials_no_one_twice(busy_campaign, monkeypatch):
    real_tally = services.gate_tally

    def dies_after_creating_the_calls(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(services, "gate_tally", dies_after_creating_the_calls)
    with pytest.raises(WorkerDied):
        dispatcher.dispatch_due()

    assert not Call.objects.filter(campaign=busy_campaign).exists()
    assert busy_campaign.contacts.filter(state=CampaignContact.State.WAITING, attempts=0).count() == 10

    monkeypatch.setattr(services, "gate_tally", real_tally)
    dispatcher.dispatch_due()
    dispatcher.dispatch_due()

    calls_per_contact = list(Call.objects.filter(campaign=busy_campaign).values_list("contact_id", flat=True))
    assert len(calls_per_contact) == len(set(calls_per_contact)) == 8  # the concurrency limit
    assert GateTally.objects.get(campaign=busy_campaign, decision=gate.ALLOWED).count == 8


@pytest.mark.obligation("P49")
def test_two_dispatchers_in_two_processes_never_dial_the_same_contact(
    transactional_db, site_content, organisation, owner, tmp_path
):
    campaigns = [
        launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE, 100 * c + i) for i in range(60)], name=f"C{c}")
        for c in range(4)
    ]
    # Callable at any hour of any day, and due now, whenever the suite runs.
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(
        calling_days=list(range(7)),
        window_start=datetime.time(0, 0),
        window_end=datetime.time(23, 59),
        call_on_bank_holidays=True,
        max_concurrent_calls=500,
    )
    CampaignContact.objects.update(next_attempt_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    CallingLimit.objects.create(organisation=organisation, max_concurrent_calls=1000)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "TELEPHONY_SIMULATOR_DIR": str(tmp_path / "network"),
        "DJANGO_SETTINGS_MODULE": "nextsupport.settings.test",
    }
    command = [sys.executable, "-m", "bench.dispatch_worker", "--batch", "20"]
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(w.communicate(timeout=240)[0].strip().splitlines()[-1]) for w in workers]

    assert all(w.returncode == 0 for w in workers)
    assert sum(r["created"] for r in results) == 240
    assert all(r["created"] > 0 for r in results)  # both workers took part
    contacts = list(Call.objects.values_list("contact_id", flat=True))
    assert len(contacts) == len(set(contacts)) == 240
    dialled = [json.loads(p.read_text())["to"] for p in (tmp_path / "network" / "calls").glob("*.json")]
    assert len(dialled) == len(set(dialled)) == 240
