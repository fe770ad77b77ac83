"""The campaigns back office: staff see every client's campaigns and calls, read what was said only
after giving a reason (P13), and set each organisation's cap on calls at once through the service."""

import json
import re

import pytest
from django.test import Client

from campaigns.models import CallingLimit
from campaigns.telephony.simulator import Persona, example_number
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import launched
from tests.campaigns.pages import play_calls, text_of
from tests.campaigns.test_calls import dial
from tests.conftest import login
from tests.factories import CampaignFactory, UsageStatementFactory, UserFactory


@pytest.fixture
def staff(compliance_officer):
    return login(Client(), compliance_officer)


@pytest.fixture
def recorded_call(organisation, owner, django_capture_on_commit_callbacks):
    campaign = launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE)], record_calls=True)
    dial(django_capture_on_commit_callbacks)
    play_calls(django_capture_on_commit_callbacks)
    return campaign.calls.get()


def test_staff_see_every_organisations_campaigns_with_state_and_counts(staff, organisation, other_organisation, recorded_call):
    CampaignFactory(organisation=other_organisation, name="Rival's winter offer")

    listing = text_of(staff.get("/admin/campaigns/campaign/"))
    detail = staff.get(f"/admin/campaigns/campaign/{recorded_call.campaign_id}/change/")

    assert "Boiler service follow-up" in listing and "Rival&#x27;s winter offer" in listing
    assert "Acme Energy Ltd" in listing and "Rival Telecom plc" in listing
    row = re.search(r"Boiler service follow-up.*?</tr>", listing, re.S)[0]
    assert re.findall(r'<td class="field-(?:people|dialled|connected|abandoned)">(\d+)</td>', row) == ["1", "1", "1", "0"]
    assert detail.status_code == 200 and "allowed: 1" in text_of(detail)
    assert 'name="_save"' not in text_of(detail)  # read-only
    assert staff.post(f"/admin/campaigns/campaign/{recorded_call.campaign_id}/change/", {"name": "x"}).status_code == 403


@pytest.mark.obligation("P13")
def test_calls_are_listed_without_what_was_said(staff, recorded_call):
    lines = [*json.loads(recorded_call.transcript), {"speaker": "person", "text": "My boiler is a Vaillant ecoTEC.", "at": 30}]
    recorded_call.transcript = json.dumps(lines)
    recorded_call.save()
    recorded_call.responses.update(heard="Yes, the engineer was lovely")

    pages = [staff.get("/admin/campaigns/call/"), staff.get(f"/admin/campaigns/call/{recorded_call.pk}/change/")]

    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        shown = text_of(page)
        assert "Vaillant ecoTEC" not in shown and "engineer was lovely" not in shown
        assert recorded_call.consumer.name not in shown
    assert "Review this call" in text_of(pages[1])


@pytest.mark.obligation("P13")
def test_reviewing_a_call_needs_a_reason_and_each_review_and_playback_is_audited(staff, compliance_officer, recorded_call):
    review = f"/admin/campaigns/call/{recorded_call.pk}/review/"
    said = json.loads(recorded_call.transcript)[-1]["text"]

    asked = text_of(staff.get(review))
    refused = text_of(staff.post(review, {"reason": "   "}))
    shown = text_of(staff.post(review, {"reason": "Client ticket 4411: the customer says the agent was rude."}))

    assert said not in asked and said not in refused
    assert "Say why you are reviewing this call" in refused
    assert said in shown and "(heard: “" in shown
    event = AuditEvent.objects.get(action="call.reviewed")
    assert event.reason == "Client ticket 4411: the customer says the agent was rude."
    assert event.actor == compliance_officer and event.target_id == str(recorded_call.pk)
    player = re.search(r'<audio controls preload="none" src="([^"]+)"', shown)[1]
    assert staff.get(player).content[:4] == b"RIFF"
    assert AuditEvent.objects.filter(action="recording.accessed", actor=compliance_officer).count() == 1
    assert staff.get(player.rstrip("/")[:-4] + "AAAA/").status_code == 403


@pytest.mark.obligation("P13", "P25")
def test_staff_without_the_review_permission_cannot_review(recorded_call):
    support = login(Client(), UserFactory(is_staff=True))

    assert support.get(f"/admin/campaigns/call/{recorded_call.pk}/review/").status_code == 403
    assert not AuditEvent.objects.filter(action="call.reviewed").exists()


def test_clients_never_reach_the_campaigns_admin(owner, recorded_call):
    client = login(Client(), owner)

    response = client.get(f"/admin/campaigns/call/{recorded_call.pk}/review/")

    assert response.status_code in (302, 403)
    assert json.loads(recorded_call.transcript)[-1]["text"] not in text_of(response)


def test_staff_set_an_organisations_cap_with_a_reason_through_the_service(staff, compliance_officer, organisation):
    add = "/admin/campaigns/callinglimit/add/"

    refused = staff.post(add, {"organisation": organisation.pk, "max_concurrent_calls": 4, "reason": " "})
    too_many = staff.post(add, {"organisation": organisation.pk, "max_concurrent_calls": 5000, "reason": "Big client"})
    saved = staff.post(add, {"organisation": organisation.pk, "max_concurrent_calls": 4, "reason": "New client: start slowly."})

    assert "Say why this limit is set" in text_of(refused) and "Choose a number from 0 (no calls) to 1000." in text_of(too_many)
    assert saved.status_code == 302
    limit = CallingLimit.objects.get(organisation=organisation)
    assert (limit.max_concurrent_calls, limit.reason, limit.set_by) == (4, "New client: start slowly.", compliance_officer)
    changed = staff.post(
        f"/admin/campaigns/callinglimit/{limit.pk}/change/", {"max_concurrent_calls": 10, "reason": "Trusted now."}
    )
    assert changed.status_code == 302 and CallingLimit.objects.get(pk=limit.pk).max_concurrent_calls == 10
    events = AuditEvent.objects.filter(action="calling_limit.set").order_by("sequence")
    assert [(e.details["max"], e.reason) for e in events] == [(4, "New client: start slowly."), (10, "Trusted now.")]
    assert staff.post(f"/admin/campaigns/callinglimit/{limit.pk}/delete/", {"post": "yes"}).status_code == 403


def test_staff_see_caller_ids_and_statements(staff, organisation, recorded_call):
    UsageStatementFactory(organisation=organisation)

    caller_ids = text_of(staff.get("/admin/campaigns/callerid/"))
    statements = text_of(staff.get("/admin/campaigns/usagestatement/"))

    assert "Customer line" in caller_ids and "020 7946 0000" in caller_ids
    assert "Acme Energy Ltd" in statements and "95.50" in statements
