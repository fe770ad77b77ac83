"""Dispatcher: 100,000 due contacts across 20 campaigns; gate decisions per second, dials claimed per second with 2 workers, queries per batch.

- Gate: `campaigns.gate.decide()` on batches of 500 contacts of one campaign
  (loaded the way the dispatcher claims them), median of the batches; and the
  SQL queries one call of decide() makes for 1, 100 and 500 contacts (the
  target: the same number whatever the batch).
- Dispatch: two `bench.dispatch_worker` processes running dispatcher ticks
  side by side until no contact is due. Each tick claims, gates and records a
  batch per campaign (FOR UPDATE SKIP LOCKED) and creates the calls; the dial
  itself is left out (--no-dial), since it is the provider's HTTP request, not
  the dispatcher. Afterwards every contact must have exactly one call. The
  SQL queries of one campaign's batch are counted too.

The campaigns call at any hour (a window of 00:00-23:59 every day) with no
concurrency limit to speak of, so every contact is due and allowed: the
figures are the dispatcher's own throughput, not a calling window's.
"""

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.import_worker import database_url
from bench.util import table

CONTACTS = 100_000
CAMPAIGNS = 20
ORGANISATIONS = 4
GATE_BATCH = 500
GATE_BATCHES = 20
WORKERS = 2
ROOT = Path(__file__).resolve().parent.parent


def _organisation(n: int):
    from accounts.models import Membership, Organisation, PolicyAcceptance, Role, User
    from nextsupport.selectors import current_policy

    organisation = Organisation.objects.create(
        legal_name=f"Bench dispatcher {n} Ltd", onboarding_status=Organisation.Onboarding.APPROVED
    )
    owner = User.objects.create_user(f"owner{n}@dispatch.bench", "bench-password-123")
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    for kind in ("terms", "dpa"):
        document = current_policy(kind)
        if document is not None:
            PolicyAcceptance.objects.create(organisation=organisation, user=owner, document=document, ip_address="192.0.2.1")
    return organisation, owner


def _list_of(organisation, owner, n: int, numbers: list[str]):
    from consumers import services as consumer_services
    from consumers.models import Consumer, ImportJob, ListMembership

    contact_list = consumer_services.contact_list_create(
        organisation=organisation, name=f"List {n}", purpose="service", created_by=owner
    )
    consumer_services.contact_list_attest(
        contact_list=contact_list, basis="contract", wording="Customers under contract.", by=owner
    )
    ImportJob.objects.create(
        organisation=organisation,
        contact_list=contact_list,
        original_filename="bench.csv",
        size_bytes=1,
        encoding="utf-8",
        delimiter=",",
        status=ImportJob.Status.COMPLETED,
    )
    consumers = Consumer.objects.bulk_create(
        [Consumer(organisation=organisation, phone=number, postcode="LS1 4AP", timezone="Europe/London") for number in numbers],
        batch_size=2000,
    )
    ListMembership.objects.bulk_create(
        [ListMembership(contact_list=contact_list, consumer=c) for c in consumers], batch_size=5000
    )
    return contact_list


def _campaign(organisation, owner, contact_list, n: int, caller_id):
    from campaigns import script, services
    from campaigns.models import Campaign

    campaign = services.campaign_create(
        organisation=organisation,
        by=owner,
        contact_lists=[contact_list],
        name=f"Campaign {n}",
        purpose="support",
        lawful_basis="contract",
        caller_id=caller_id,
        transfer_number="020 7946 0999",
        calling_days=list(range(7)),
        call_on_bank_holidays=True,
    )
    services.script_version_save(campaign=campaign, content=script.EXAMPLE, by=owner)
    services.campaign_launch(campaign=campaign, by=owner)
    # Every hour of every day: the benchmark measures the dispatcher, not a calling window.
    Campaign.objects.filter(pk=campaign.pk).update(
        window_start=datetime.time(0, 0), window_end=datetime.time(23, 59), max_concurrent_calls=CONTACTS
    )
    return campaign


def setup() -> list:
    from campaigns.models import CallerId, CallingLimit, CampaignContact

    started = time.perf_counter()
    per_campaign = CONTACTS // CAMPAIGNS
    campaigns = []
    for o in range(ORGANISATIONS):
        organisation, owner = _organisation(o)
        CallingLimit.objects.create(organisation=organisation, max_concurrent_calls=CONTACTS)
        caller_id = CallerId.objects.create(
            organisation=organisation,
            number="020 7946 0000",
            label="Bench",
            provider="simulator",
            status=CallerId.Status.VERIFIED,
        )
        for c in range(CAMPAIGNS // ORGANISATIONS):
            n = o * (CAMPAIGNS // ORGANISATIONS) + c
            numbers = [f"+4479{n:02d}{i:06d}" for i in range(per_campaign)]
            contact_list = _list_of(organisation, owner, n, numbers)
            campaigns.append(_campaign(organisation, owner, contact_list, n, caller_id))
    CampaignContact.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=1))
    print(
        f"set up {CONTACTS:,} contacts in {CAMPAIGNS} campaigns of {ORGANISATIONS} organisations in {time.perf_counter() - started:.0f} s"
    )
    return campaigns


def _batch(campaign, size: int, offset: int = 0):
    from campaigns.dispatcher import _UNUSED_CONSUMER_FIELDS
    from campaigns.models import CampaignContact

    contacts = list(
        CampaignContact.objects.select_related("consumer")
        .defer(*(f"consumer__{name}" for name in _UNUSED_CONSUMER_FIELDS))
        .filter(campaign=campaign)
        .order_by("id")[offset : offset + size]
    )
    for contact in contacts:
        contact.campaign = campaign
    return contacts


def gate_figures(campaign) -> dict:
    from campaigns import gate
    from campaigns.models import Campaign

    campaign = Campaign.objects.select_related("organisation", "caller_id").get(pk=campaign.pk)
    queries = {}
    for size in (1, 100, GATE_BATCH):
        contacts = _batch(campaign, size)
        with CaptureQueriesContext(connection) as captured:
            decisions = gate.decide(campaign, contacts)
        assert all(d.allowed for d in decisions), {d.reason for d in decisions}
        queries[size] = len(captured)
    samples = []
    for b in range(GATE_BATCHES):
        contacts = _batch(campaign, GATE_BATCH, offset=(b * GATE_BATCH) % (CONTACTS // CAMPAIGNS))
        started = time.perf_counter()
        gate.decide(campaign, contacts)
        samples.append(time.perf_counter() - started)
    samples.sort()
    median = samples[len(samples) // 2]
    return {"decisions_per_s": round(GATE_BATCH / median), "batch_ms_median": round(1000 * median, 1), "queries": queries}


def dispatch_queries(campaign) -> int:
    """Queries of one campaign's batch of 200 (claim, gate, record), calls' dials left out; rolled back afterwards."""
    from unittest import mock

    from django.db import transaction

    from campaigns import dispatcher, tasks

    with transaction.atomic(), mock.patch.object(tasks.place_call, "delay_on_commit"):
        with CaptureQueriesContext(connection) as captured:
            report = dispatcher.dispatch_campaign(campaign, now=timezone.now(), limit=200)
        assert report.dialled == 200, report
        transaction.set_rollback(True)
    return len(captured)


def dispatch_figures() -> dict:
    from campaigns.models import Call

    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "nextsupport.settings.test",
    }
    command = [sys.executable, "-m", "bench.dispatch_worker", "--no-dial", "--batch", "500"]
    started = time.perf_counter()
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]  # noqa: S603 (our own interpreter and module)
    results = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
    wall = time.perf_counter() - started
    calls = Call.objects.count()
    distinct = Call.objects.values("contact_id").distinct().count()
    assert calls == distinct == CONTACTS, (calls, distinct)
    return {
        "claimed_per_s": round(CONTACTS / wall),
        "wall_s": round(wall, 1),
        "per_worker": [{"claimed": r["claimed"], "ticks": r["ticks"], "seconds": round(r["seconds"], 1)} for r in results],
        "calls": calls,
        "contacts_called_twice": calls - distinct,
    }


def run() -> dict:
    campaigns = setup()
    gate = gate_figures(campaigns[0])
    batch_queries = dispatch_queries(campaigns[1])
    dispatch = dispatch_figures()
    print(
        table(
            [
                ("gate decisions per second (batches of 500)", f"{gate['decisions_per_s']:,}"),
                ("gate queries for 1 / 100 / 500 contacts", " / ".join(str(q) for q in gate["queries"].values())),
                ("dispatcher queries for one batch of 200", batch_queries),
                (f"dials claimed per second, {WORKERS} workers", f"{dispatch['claimed_per_s']:,}"),
                ("contacts called twice", dispatch["contacts_called_twice"]),
            ],
            ("", "figure"),
        )
    )
    return {
        "contacts": CONTACTS,
        "campaigns": CAMPAIGNS,
        "gate_decisions_per_s": gate["decisions_per_s"],
        "gate_batch_ms_median": gate["batch_ms_median"],
        "gate_queries_by_batch_size": gate["queries"],
        "dispatcher_queries_per_batch_of_200": batch_queries,
        "claimed_per_s_2_workers": dispatch["claimed_per_s"],
        "dispatch": dispatch,
    }
