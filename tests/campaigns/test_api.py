"""The campaigns REST API under /api/v1/orgs/<org_id>/: every operation through the real views,
with an organisation's API key and with a signed-in session, the same rules as the services,
refusals that name the field, capabilities, and nothing of another client's."""

import datetime
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import get_resolver, reverse

from accounts.models import ROLE_CAPABILITIES, APIKey, Capability, Role
from campaigns import script, services
from campaigns.models import CallerId, Campaign, CampaignContact, GateReason, ScriptVersion
from campaigns.telephony import simulator
from campaigns.telephony.simulator import Persona, example_number
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import CALLER_ID, TRANSFER, draft, imported_list, launched, verified_caller_id
from tests.campaigns.test_calls import dial, play_all, transport_for
from tests.conftest import login
from tests.factories import APIKeyFactory, CallFactory, ContactListFactory, WebhookEndpointFactory

PEOPLE = [example_number(Persona.COOPERATIVE), example_number(Persona.STOP), example_number(Persona.BUSY)]


def url(name, org, *args):
    return reverse(f"campaigns-api:{name}", args=[org.pk, *args])


def send(client, method, path, data=None):
    return getattr(client, method)(path, data or {}, content_type="application/json")


def key_client(organisation, scope=APIKey.Scope.READ_WRITE):
    key = APIKeyFactory(organisation=organisation, scope=scope)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}"), key


@pytest.fixture(params=["api_key", "session"])
def api(request, organisation, owner):
    """The owner's session, or a read-write API key: every operation must work with both."""
    if request.param == "api_key":
        return key_client(organisation)[0]
    return login(Client(), owner)


@pytest.fixture
def customers(organisation, owner):
    return imported_list(organisation, owner, [("07911 100101", "Ada Lovelace", "LS1 1AA"), ("07911 100102", "Ben", "M1 1AE")])


@pytest.fixture
def called(organisation, owner, client, django_capture_on_commit_callbacks):
    """A running campaign whose first round of calls has been made: one person completes the script,
    one says stop, one line is busy."""
    campaign = launched(organisation, owner, numbers=PEOPLE)
    dial(django_capture_on_commit_callbacks)
    play_all(client)
    return campaign


def actions(campaign) -> list[str]:
    events = AuditEvent.objects.filter(target_id=str(campaign.pk), action__startswith="campaign.").order_by("sequence")
    return list(events.values_list("action", flat=True))


# --- Campaigns ----------------------------------------------------------------------------


@pytest.mark.obligation("P11", "P17")
def test_a_campaign_goes_from_draft_to_cancelled_through_the_api(api, organisation, customers):
    # Given a caller ID and an attested, imported list
    caller_id = verified_caller_id(organisation)

    # When the client creates a campaign, writes its script, edits and launches it, pauses, resumes and cancels it
    created = send(
        api,
        "post",
        url("campaigns", organisation),
        {
            "name": "Boiler follow-up",
            "purpose": "support",
            "lawful_basis": "contract",
            "contact_lists": [customers.pk],
            "caller_id": caller_id.pk,
            "transfer_number": TRANSFER,
        },
    )
    campaign_id = created.json()["id"]
    saved = send(api, "post", url("campaign-scripts", organisation, campaign_id), script.EXAMPLE)
    edited = send(api, "patch", url("campaign", organisation, campaign_id), {"name": "Boiler service", "max_attempts": 2})
    launched_ = send(api, "post", url("campaign-launch", organisation, campaign_id))
    paused = send(api, "post", url("campaign-pause", organisation, campaign_id))
    resumed = send(api, "post", url("campaign-resume", organisation, campaign_id))
    cancelled = send(api, "post", url("campaign-cancel", organisation, campaign_id))

    # Then each step answers with the campaign as it now is, and each change is audited
    assert created.status_code == 201
    assert created.json()["state"] == "draft" and created.json()["launch_problems"] == ["Write the call script."]
    assert created.json()["contact_lists"] == [customers.pk] and created.json()["transfer_number"] == "+442079460999"
    assert saved.status_code == 201 and saved.json()["number"] == 1 and saved.json()["in_use"] is True
    assert edited.status_code == 200
    assert (edited.json()["name"], edited.json()["max_attempts"], edited.json()["launch_problems"]) == ("Boiler service", 2, [])
    assert launched_.status_code == 200 and launched_.json()["state"] == "running"
    assert paused.json()["state"] == "paused" and paused.json()["pause_reason"] == "client"
    assert resumed.json()["state"] == "running"
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled" and cancelled.json()["ended_at"]
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.contacts.count() == 2 and campaign.organisation == organisation
    assert actions(campaign) == [
        "campaign.created",
        "campaign.script_saved",
        "campaign.updated",
        "campaign.launched",
        "campaign.paused",
        "campaign.resumed",
        "campaign.cancelled",
    ]


def test_campaigns_are_listed_newest_first_and_by_state(api, organisation, owner, customers):
    first = draft(organisation, owner, [customers], name="First")
    second = services.campaign_launch(campaign=draft(organisation, owner, [customers], name="Second"), by=owner)

    everything = api.get(url("campaigns", organisation)).json()
    running = api.get(url("campaigns", organisation), {"state": "running"}).json()
    bogus = api.get(url("campaigns", organisation), {"state": "asleep"})

    assert [c["id"] for c in everything["results"]] == [second.pk, first.pk] and everything["count"] == 2
    assert [c["id"] for c in running["results"]] == [second.pk]
    assert bogus.status_code == 400 and bogus.json() == {"state": ['"asleep" is not a valid choice.']}


@pytest.mark.obligation("P17")
def test_refused_settings_name_the_field_and_create_nothing(api, organisation, owner, other_organisation, customers):
    # Given another client's caller ID and list, and settings the rules refuse
    theirs = CallerId.objects.create(
        organisation=other_organisation, number="020 7946 0555", label="Theirs", provider="simulator", status="verified"
    )
    their_list = ContactListFactory(organisation=other_organisation)
    base = {"name": "Offer", "purpose": "marketing", "lawful_basis": "consent"}
    cases = [
        ({"lawful_basis": "contract"}, {"lawful_basis": ["A lead generation and marketing campaign rests on Consent (P17)."]}),
        ({"window_start": "07:30"}, {"window_start": ["Marketing calls may not start before 08:00 in the person's local time."]}),
        ({"max_attempts": 0}, {"max_attempts": ["Choose a number from 1 to 10."]}),
        (
            {"window_end": "noon"},
            {"window_end": ["Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."]},
        ),
        ({"caller_id": theirs.pk}, {"caller_id": [f"There is no caller ID {theirs.pk} in your organisation."]}),
        ({"caller_id": 2_000_000_000}, {"caller_id": ["There is no caller ID 2000000000 in your organisation."]}),
        (
            {"contact_lists": [their_list.pk]},
            {"contact_lists": [f"There is no contact list {their_list.pk} in your organisation."]},
        ),
        (
            {"contact_lists": [customers.pk]},
            {
                "contact_lists": [
                    f"'{customers}' is a customer service calls list; a lead generation and marketing campaign uses marketing calls lists."
                ]
            },
        ),
        (
            {"transfer_number": "0909 879 0000"},
            {
                "transfer_number": [
                    "The transfer number cannot be a premium-rate or revenue-sharing number (09, 087, 084): "
                    "people must be able to call back at normal cost."
                ]
            },
        ),
    ]

    for change, errors in cases:
        # When it is sent
        response = send(api, "post", url("campaigns", organisation), {**base, **change})

        # Then it is a 400 naming the field and saying why
        assert (response.status_code, response.json()) == (400, errors), change
    missing = send(api, "post", url("campaigns", organisation), {"purpose": "support"})
    assert missing.json() == {"name": ["This field is required."], "lawful_basis": ["This field is required."]}
    assert not Campaign.objects.exists()


def test_a_launch_refused_says_every_reason_and_changes_nothing(api, organisation, owner, customers):
    campaign = services.campaign_create(
        organisation=organisation,
        by=owner,
        contact_lists=[customers],
        name="Half ready",
        purpose="support",
        lawful_basis="contract",
    )

    response = send(api, "post", url("campaign-launch", organisation, campaign.pk))

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "Choose a caller ID: calls always show a number people can call back.",
            "Give a transfer number: everyone called can ask to speak to a person.",
            "Write the call script.",
        ]
    }
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not campaign.contacts.exists()


def test_a_running_campaign_refuses_edits_that_need_a_pause(api, organisation, owner):
    campaign = launched(organisation, owner)

    refused = send(api, "patch", url("campaign", organisation, campaign.pk), {"window_end": "19:00", "name": "Renamed"})
    renamed = send(api, "patch", url("campaign", organisation, campaign.pk), {"name": "Renamed", "max_concurrent_calls": 3})

    assert refused.status_code == 400 and refused.json() == {"non_field_errors": ["Pause the campaign to change window end."]}
    assert renamed.status_code == 200 and (renamed.json()["name"], renamed.json()["max_concurrent_calls"]) == ("Renamed", 3)


@pytest.mark.obligation("P16")
def test_automated_decisions_are_switched_on_only_by_a_person_with_a_reason(organisation, owner, customers):
    # Given a campaign, the owner signed in, and a read-write key
    campaign = draft(organisation, owner, [customers])
    session, (key, _) = login(Client(), owner), key_client(organisation)
    path = url("campaign-automated-decisions", organisation, campaign.pk)
    reason = "Eligibility for the boiler cover scheme is decided from the answers."

    # When they try to switch automated decisions on without a reason, with a key, then properly, then off with the key
    no_reason = send(session, "put", path, {"automated_decisions": True})
    by_key = send(key, "put", path, {"automated_decisions": True, "automated_decisions_reason": reason})
    switched_on = send(session, "put", path, {"automated_decisions": True, "automated_decisions_reason": reason})
    campaign.refresh_from_db()
    set_by = campaign.automated_decisions_set_by
    switched_off = send(key, "put", path, {"automated_decisions": False})

    # Then only the person with a reason switches them on, and the record names them; a key may switch them off
    assert no_reason.status_code == 400 and list(no_reason.json()) == ["automated_decisions_reason"]
    assert by_key.status_code == 403 and "signed-in person" in by_key.json()["detail"]
    assert switched_on.status_code == 200
    assert (switched_on.json()["automated_decisions"], switched_on.json()["automated_decisions_reason"]) == (True, reason)
    assert set_by == owner
    assert switched_off.status_code == 200 and switched_off.json()["automated_decisions"] is False
    assert actions(campaign).count("campaign.automated_decisions_changed") == 2


def test_progress_figures_are_the_campaigns_own(api, organisation, called):
    response = api.get(url("campaign-progress", organisation, called.pk))

    body = response.json()
    assert response.status_code == 200
    assert body["state"] == "running" and body["slowed"] is False
    assert (body["calls"]["dialled"], body["calls"]["completed"], body["calls"]["opted_out"]) == (3, 1, 1)
    assert body["contacts"] == {"waiting": 1, "in_call": 0, "done": 2, "refused": 0}
    assert body["gate"] == {"allowed": 3}
    assert body["abandoned_rate"]["rate"] == 0.0 and body["abandoned_rate"]["limit"] == 0.03


# --- Scripts ------------------------------------------------------------------------------


@pytest.mark.obligation("P50", "P52")
def test_a_new_script_version_comes_back_with_the_preview_of_exactly_what_is_said(api, organisation, owner, customers):
    # Given a draft that records its calls, with a first version
    campaign = draft(organisation, owner, [customers], record_calls=True)
    changed = {**script.EXAMPLE, "greeting": "I'm calling about your boiler service."}

    # When a second version is saved, and the versions are listed and read
    saved = send(api, "post", url("campaign-scripts", organisation, campaign.pk), changed)
    versions = api.get(url("campaign-scripts", organisation, campaign.pk)).json()["results"]
    first = api.get(url("script-version", organisation, versions[1]["id"])).json()

    # Then the preview starts with the platform's lines, in their fixed order, and the new version is the one in use
    client = organisation.display_name
    preview = saved.json()["preview"]
    assert saved.status_code == 201 and saved.json()["number"] == 2
    assert [line["part"] for line in preview[:4]] == ["disclosure", "recording", "options", "greeting"]
    assert preview[0] == {
        "text": f"Hello, this is an automated AI assistant calling on behalf of {client}.",
        "source": "platform",
        "part": "disclosure",
    }
    assert preview[3] == {"text": "I'm calling about your boiler service.", "source": "client", "part": "greeting"}
    assert preview == [
        {"text": line.text, "source": line.source, "part": line.part}
        for line in services.script_for(Campaign.objects.get(pk=campaign.pk)).preview()
    ]
    assert [(v["number"], v["in_use"]) for v in versions] == [(2, True), (1, False)]
    assert first["number"] == 1 and first["content"]["greeting"] == script.EXAMPLE["greeting"]
    assert first["preview"][3]["text"] == script.EXAMPLE["greeting"]


def test_a_script_the_rules_refuse_is_a_400_naming_its_place_and_saves_nothing(api, organisation, owner, customers):
    campaign = draft(organisation, owner, [customers])
    backwards = {**script.EXAMPLE, "steps": [script.EXAMPLE["steps"][0], {**script.EXAMPLE["steps"][1]}]}
    backwards["steps"][1] = {**backwards["steps"][1], "answers": [{**backwards["steps"][1]["answers"][0], "next": "satisfied"}]}

    human = send(
        api, "post", url("campaign-scripts", organisation, campaign.pk), {"greeting": "Hi, I'm a real person from Acme."}
    )
    loop = send(api, "post", url("campaign-scripts", organisation, campaign.pk), backwards)
    not_a_script = send(api, "post", url("campaign-scripts", organisation, campaign.pk), ["greeting"])
    nul = {**script.EXAMPLE, "greeting": "Hello\u0000there"}
    nul["steps"] = [{"id": "happy", "question": "Happy?", "answers": [{"value": "yes", "phrases": ["yes\u0000"]}]}]
    control = send(api, "post", url("campaign-scripts", organisation, campaign.pk), nul)

    assert human.status_code == 400
    assert human.json() == {"greeting": ["The agent is an AI and the call says so first: the script may not claim otherwise."]}
    assert loop.status_code == 400
    assert loop.json() == {
        "steps[1].answers[0].next": ["'satisfied' comes before this step: a script only moves forward, so every call ends."]
    }
    assert not_a_script.json() == {"script": ["A script is an object with a greeting, steps and a closing."]}
    assert control.status_code == 400
    assert control.json() == {
        "greeting": ["Remove the control characters from this text."],
        "steps[0].answers[0].phrases[0]": ["Remove the control characters from this phrase."],
    }
    assert ScriptVersion.objects.filter(campaign=campaign).count() == 1


def test_a_running_campaign_keeps_its_script(api, organisation, owner):
    campaign = launched(organisation, owner)

    response = send(api, "post", url("campaign-scripts", organisation, campaign.pk), {"greeting": "Something new."})

    assert response.status_code == 400 and "Pause the campaign to change its script" in response.json()["non_field_errors"][0]


# --- Contacts and calls -------------------------------------------------------------------


@pytest.mark.obligation("P25")
def test_contacts_show_where_each_person_stands_their_identity_only_to_who_may_see_it(organisation, owner, teammate, called):
    # Given the owner, a viewer and a read-only key
    owner_client, viewer = login(Client(), owner), login(Client(), teammate)
    read_only, _ = key_client(organisation, APIKey.Scope.READ_ONLY)
    path = url("campaign-contacts", organisation, called.pk)

    # When each lists the contacts
    shown = owner_client.get(path).json()["results"]
    masked = [viewer.get(path).json()["results"], read_only.get(path).json()["results"]]

    # Then everyone sees states, attempts, decisions and outcomes; only the owner sees names and numbers
    by_number = {c["phone"]: c for c in shown}
    stop = by_number[PEOPLE[1]]
    assert (stop["state"], stop["attempts"], stop["last_decision"], stop["outcome"]) == ("done", 1, "allowed", "opted_out")
    assert stop["name"] == "Person 1" and stop["last_decision_reason"] == "Allowed"
    assert by_number[PEOPLE[2]]["state"] == "waiting" and by_number[PEOPLE[2]]["outcome"] == "busy"
    for results in masked:
        assert sorted(c["phone"] for c in results) == sorted(f"••• ••• {n[-3:]}" for n in PEOPLE)
        assert {c["name"] for c in results} == {None}
        assert [(c["state"], c["outcome"]) for c in results] == [(c["state"], c["outcome"]) for c in shown]
    # And showing them is in the audit trail, for the owner's request only
    reveals = AuditEvent.objects.filter(action="personal_data.revealed")
    assert [(e.actor_id, e.details) for e in reveals] == [(owner.pk, {"view": "campaign contacts", "rows": 3})]


def test_contacts_filter_by_state_and_gate_decision(api, organisation, owner):
    campaign = launched(organisation, owner)
    refused = campaign.contacts.order_by("pk").first()
    CampaignContact.objects.filter(pk=refused.pk).update(state="refused", last_decision=GateReason.SUPPRESSED)

    by_state = api.get(url("campaign-contacts", organisation, campaign.pk), {"state": "refused"}).json()
    by_decision = api.get(url("campaign-contacts", organisation, campaign.pk), {"decision": "suppressed"}).json()
    bad = api.get(url("campaign-contacts", organisation, campaign.pk), {"decision": "unlucky"})

    assert [c["id"] for c in by_state["results"]] == [refused.pk]
    assert [(c["id"], c["last_decision_reason"]) for c in by_decision["results"]] == [(refused.pk, "On a do-not-call list")]
    assert bad.status_code == 400 and list(bad.json()) == ["decision"]


@pytest.mark.obligation("P06")
def test_calls_and_outcomes_are_listed_and_filtered(api, organisation, called):
    path = url("campaign-calls", organisation, called.pk)
    today = datetime.date(2026, 12, 1)

    everything = api.get(path).json()
    opted_out = api.get(path, {"outcome": "opted_out"}).json()["results"]
    busy = api.get(path, {"status": "busy"}).json()["results"]
    on_the_day = api.get(path, {"date_from": today, "date_to": today}).json()["count"]
    the_day_after = api.get(path, {"date_from": today + datetime.timedelta(days=1)}).json()["count"]
    backwards = api.get(path, {"date_from": today, "date_to": today - datetime.timedelta(days=1)})

    assert everything["count"] == 3
    assert {(c["status"], c["outcome"]) for c in everything["results"]} == {
        ("completed", "completed_script"),
        ("completed", "opted_out"),
        ("busy", ""),
    }
    assert [c["number"] for c in opted_out] == [PEOPLE[1]] and opted_out[0]["opted_out_at"]
    assert len(busy) == 1 and busy[0]["answered_at"] is None
    assert (on_the_day, the_day_after) == (3, 0)
    assert backwards.status_code == 400 and backwards.json() == {"date_to": ["The last day is before the first."]}


@pytest.mark.obligation("P06", "P25")
def test_a_call_shows_its_responses_and_its_transcript_only_to_who_may_see_personal_data(organisation, owner, called):
    # Given the cooperative person's call, the owner and a read-only key
    call = called.calls.get(outcome="completed_script")
    owner_client, (read_only, _) = login(Client(), owner), key_client(organisation, APIKey.Scope.READ_ONLY)

    # When both read it
    full = owner_client.get(url("call", organisation, call.pk)).json()
    limited = read_only.get(url("call", organisation, call.pk)).json()

    # Then both see what happened and the answers; only the owner sees what was said, and that is audited
    for body in (full, limited):
        assert (body["status"], body["outcome"], body["attempt"], body["script_version"]) == (
            "completed",
            "completed_script",
            1,
            1,
        )
        assert body["duration_seconds"] > 0 and body["answered_by"] == "human" and body["recording"] is None
        assert [(r["step_id"], r["value"]) for r in body["responses"]] == [("satisfied", "yes"), ("callback", "yes")]
    assert full["number"] == PEOPLE[0] and full["transcript"][0]["speaker"] == "agent"
    assert all(r["heard"] for r in full["responses"])
    assert limited["number"] == f"••• ••• {PEOPLE[0][-3:]}" and limited["transcript"] is None
    assert [r["heard"] for r in limited["responses"]] == [None, None]
    reveal = AuditEvent.objects.get(action="personal_data.revealed")
    assert (reveal.actor_id, reveal.target_id, reveal.details) == (owner.pk, str(call.pk), {"view": "call record", "rows": 1})


# --- Caller IDs ---------------------------------------------------------------------------


@pytest.mark.obligation("P50")
def test_a_caller_id_is_verified_with_the_code_the_api_gives(api, organisation, client):
    # When the client asks to verify a number, and whoever answers the verification call keys the code in
    requested = send(api, "post", url("caller-ids", organisation), {"number": "020 7946 0123", "label": "Service desk"})
    caller_id = CallerId.objects.get(pk=requested.json()["id"])
    simulator.play_caller_id_validation(caller_id.provider_reference, transport=transport_for(client))

    # Then the answer carried the code, and the caller ID is now verified
    body = requested.json()
    assert requested.status_code == 201
    assert (body["number"], body["label"], body["status"]) == ("+442079460123", "Service desk", "pending")
    assert len(body["validation_code"]) == 6 and body["validation_code"].isdigit()
    assert api.get(url("caller-id", organisation, caller_id.pk)).json()["status"] == "verified"
    assert [c["id"] for c in api.get(url("caller-ids", organisation)).json()["results"]] == [caller_id.pk]
    assert "validation_code" not in api.get(url("caller-id", organisation, caller_id.pk)).json()


def test_caller_ids_refused_or_in_use_say_why(api, organisation, owner):
    campaign = launched(organisation, owner)
    unused = CallerId.objects.create(organisation=organisation, number="020 7946 0777", label="Old", provider="simulator")

    premium = send(api, "post", url("caller-ids", organisation), {"number": "0909 879 0000", "label": "Premium"})
    unlabelled = send(api, "post", url("caller-ids", organisation), {"number": "020 7946 0124", "label": " "})
    twice = send(api, "post", url("caller-ids", organisation), {"number": CALLER_ID, "label": "Again"})
    in_use = api.delete(url("caller-id", organisation, campaign.caller_id_id))
    removed = api.delete(url("caller-id", organisation, unused.pk))

    assert premium.status_code == 400 and list(premium.json()) == ["number"]
    assert unlabelled.status_code == 400 and unlabelled.json() == {"label": ["This field may not be blank."]}
    assert twice.json() == {"number": ["This number is already verified as 'Customer line'."]}
    assert in_use.status_code == 400 and "has not ended" in in_use.json()["non_field_errors"][0]
    assert removed.status_code == 204 and not CallerId.objects.filter(pk=unused.pk).exists()


# --- Capabilities, outsiders, errors, the schema ------------------------------------------


@pytest.mark.obligation("P25")
def test_a_read_only_key_and_a_viewer_can_read_but_not_launch_edit_or_configure(organisation, owner, teammate, customers):
    # Given a draft, a read-only key and a viewer
    campaign = draft(organisation, owner, [customers])
    read_only, _ = key_client(organisation, APIKey.Scope.READ_ONLY)
    viewer = login(Client(), teammate)
    writes = [
        ("post", url("campaigns", organisation)),
        ("patch", url("campaign", organisation, campaign.pk)),
        ("post", url("campaign-launch", organisation, campaign.pk)),
        ("post", url("campaign-pause", organisation, campaign.pk)),
        ("post", url("campaign-resume", organisation, campaign.pk)),
        ("post", url("campaign-cancel", organisation, campaign.pk)),
        ("put", url("campaign-automated-decisions", organisation, campaign.pk)),
        ("post", url("campaign-scripts", organisation, campaign.pk)),
        ("post", url("caller-ids", organisation)),
        ("delete", url("caller-id", organisation, campaign.caller_id_id)),
        ("post", url("webhooks", organisation)),
    ]

    for client in (read_only, viewer):
        # When they read, and when they try each write
        read = client.get(url("campaign", organisation, campaign.pk))
        refused = [send(client, method, path) for method, path in writes]

        # Then reads work and every write is a 403 that says why, changing nothing
        assert read.status_code == 200
        assert [r.status_code for r in refused] == [403] * len(writes)
        assert all("does not allow this" in r.json()["detail"] for r in refused)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and Campaign.objects.count() == 1


def test_editing_needs_edit_campaigns_and_launching_needs_launch_campaigns(organisation, owner, teammate, customers, monkeypatch):
    # Given a role that may edit campaigns but not launch them
    monkeypatch.setitem(ROLE_CAPABILITIES, Role.VIEWER, frozenset({Capability.VIEW, Capability.EDIT_CAMPAIGNS}))
    campaign = draft(organisation, owner, [customers])
    editor = login(Client(), teammate)

    edited = send(editor, "patch", url("campaign", organisation, campaign.pk), {"name": "Edited"})
    launch = send(editor, "post", url("campaign-launch", organisation, campaign.pk))
    pause = send(editor, "post", url("campaign-pause", organisation, campaign.pk))

    assert edited.status_code == 200
    assert (launch.status_code, pause.status_code) == (403, 403)
    campaign.refresh_from_db()
    assert (campaign.name, campaign.state) == ("Edited", Campaign.State.DRAFT)


def _every_route(org, campaign, call, version, endpoint):
    """(method, path, whether it names one of our rows) for every operation of the campaigns API."""
    return [
        ("get", url("campaigns", org), False),
        ("post", url("campaigns", org), False),
        ("get", url("campaign", org, campaign.pk), True),
        ("patch", url("campaign", org, campaign.pk), True),
        ("post", url("campaign-launch", org, campaign.pk), True),
        ("post", url("campaign-pause", org, campaign.pk), True),
        ("post", url("campaign-resume", org, campaign.pk), True),
        ("post", url("campaign-cancel", org, campaign.pk), True),
        ("put", url("campaign-automated-decisions", org, campaign.pk), True),
        ("get", url("campaign-progress", org, campaign.pk), True),
        ("get", url("campaign-scripts", org, campaign.pk), True),
        ("post", url("campaign-scripts", org, campaign.pk), True),
        ("get", url("script-version", org, version.pk), True),
        ("get", url("campaign-contacts", org, campaign.pk), True),
        ("get", url("campaign-calls", org, campaign.pk), True),
        ("get", url("call", org, call.pk), True),
        ("get", url("caller-ids", org), False),
        ("post", url("caller-ids", org), False),
        ("get", url("caller-id", org, campaign.caller_id_id), True),
        ("delete", url("caller-id", org, campaign.caller_id_id), True),
        ("get", url("webhooks", org), False),
        ("post", url("webhooks", org), False),
        ("get", url("webhook", org, endpoint.pk), True),
        ("patch", url("webhook", org, endpoint.pk), True),
        ("delete", url("webhook", org, endpoint.pk), True),
        ("post", url("webhook-rotate-secret", org, endpoint.pk), True),
        ("post", url("webhook-test", org, endpoint.pk), True),
        ("get", url("webhook-deliveries", org, endpoint.pk), True),
    ]


@pytest.mark.obligation("P04")
def test_every_campaigns_route_is_a_404_for_an_outsider(organisation, outsider, other_organisation):
    # Given our campaign, call, script version and webhook endpoint, and an outsider with a session and a key
    call = CallFactory(organisation=organisation)
    campaign, endpoint = call.campaign, WebhookEndpointFactory(organisation=organisation)
    rows = (campaign, call, call.script_version, endpoint)
    before = (campaign.state, campaign.name, endpoint.url, endpoint.secret_nonce)

    for client in (login(Client(), outsider), key_client(other_organisation)[0]):
        # When they try every route naming our organisation, and every route naming our rows under their own
        ours = [send(client, method, path) for method, path, _ in _every_route(organisation, *rows)]
        theirs = [send(client, method, path) for method, path, named in _every_route(other_organisation, *rows) if named]

        # Then every one is a 404, in JSON, and nothing of ours changed
        assert [r.status_code for r in ours + theirs] == [404] * (len(ours) + len(theirs))
        assert {r.json()["detail"] for r in ours} == {"No such organisation."}
    campaign.refresh_from_db()
    endpoint.refresh_from_db()
    assert (campaign.state, campaign.name, endpoint.url, endpoint.secret_nonce) == before
    assert not endpoint.deliveries.exists() and campaign.script_versions.count() == 1


def test_api_errors_are_json(api, organisation, owner, customers):
    campaign = draft(organisation, owner, [customers])
    anonymous = Client()

    missing = api.get(url("campaign", organisation, 2_000_000_000))
    wrong_method = send(api, "put", url("campaigns", organisation))
    bad_filter = api.get(url("campaign-calls", organisation, campaign.pk), {"date_from": "yesterday"})
    not_signed_in = anonymous.get(url("campaigns", organisation))
    not_json = api.post(url("campaigns", organisation), "name=x", content_type="application/x-www-form-urlencoded")

    for response in (missing, wrong_method, bad_filter, not_signed_in, not_json):
        assert response["Content-Type"] == "application/json", response
    assert (missing.status_code, missing.json()) == (404, {"detail": "No such campaign."})
    assert wrong_method.status_code == 405
    assert bad_filter.status_code == 400 and list(bad_filter.json()) == ["date_from"]
    assert not_signed_in.status_code in (401, 403)
    assert not_json.status_code == 415


def _campaigns_operations() -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route of the campaigns API, from the URL resolver itself."""
    resolver = get_resolver()
    operations = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) != "campaigns-api":
            continue
        for route in pattern.url_patterns:
            path = "/" + str(pattern.pattern) + str(route.pattern)
            for converter in (
                "int:org_id",
                "int:campaign_id",
                "int:version_id",
                "int:call_id",
                "int:caller_id",
                "int:endpoint_id",
            ):
                path = path.replace(f"<{converter}>", "{" + converter.split(":")[1] + "}")
            view = route.callback.view_class
            operations |= {(m, path) for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
    return operations


def test_the_schema_describes_every_campaigns_operation(client, tmp_path, db):
    # When the schema is generated, and validated with warnings as errors
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    # Then it lists every operation of every route, each with a summary and a tag, and every write its body
    expected = _campaigns_operations()
    described = {(m, p) for p, item in schema["paths"].items() for m in item if (m, p) in expected}
    operations = [schema["paths"][p][m] for m, p in sorted(expected)]
    assert len(expected) == 28 and described == expected
    assert [op["operationId"] for op in operations if not op.get("summary") or not op.get("tags")] == []
    writes = [(m, p) for m, p in expected if m in ("post", "put", "patch")]
    assert [(m, p) for m, p in writes if "requestBody" not in schema["paths"][p][m]] == []
    launch = schema["paths"]["/api/v1/orgs/{org_id}/campaigns/{campaign_id}/launch/"]["post"]
    assert launch["requestBody"]["content"]["application/json"]["schema"] == {"type": "object", "additionalProperties": False}
    # And it speaks to integrators: every operation described in its own words, no internal promise codes,
    # no docstring of the API's base classes
    text = json.dumps([operations, _components_used(schema, operations)])
    assert [op["operationId"] for op in operations if not op.get("description")] == []
    assert re.findall(r"\(P\d\d\)|\bP\d\d:", text) == [] and "write_capability" not in text


def _components_used(schema, operations) -> list[dict]:
    components, seen = schema["components"]["schemas"], set()
    todo = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(operations)))
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= set(re.findall(r"#/components/schemas/(\w+)", json.dumps(components[name]))) - seen
    return [components[name] for name in sorted(seen)]
