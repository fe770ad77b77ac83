"""Calls end to end: the dispatcher dials, the simulator plays a person, its signed Twilio-shaped
webhooks go through the real views, the gate and the conversation engine, and the call record
says what happened (P06)."""

import datetime
import json
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.files.storage import storages

from campaigns import calls, dispatcher, services
from campaigns.models import Call, CampaignContact, GateReason, Recording
from campaigns.telephony import simulator
from campaigns.telephony.simulator import Persona, example_number
from consumers.models import Consumer, Suppression
from nextsupport.fields import digest
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import TUESDAY_10AM, launched


def transport_for(client):
    """The simulator's webhooks, delivered to the real views through Django's test client."""

    def deliver(url, params, headers):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        response = client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers)
        return response.status_code, response.content.decode()

    return deliver


def dial(django_capture_on_commit_callbacks, *, now=None):
    with django_capture_on_commit_callbacks(execute=True):
        return dispatcher.dispatch_due(now=now)


def play_all(client):
    for call in Call.objects.exclude(provider_sid=None).filter(status__in=Call.ON_THE_LINE):
        simulator.play_call(call.provider_sid, transport=transport_for(client))


def call_of(campaign, persona: Persona) -> Call:
    consumer = Consumer.objects.get(organisation=campaign.organisation, phone_index__matches=example_number(persona))
    return Call.objects.get(campaign=campaign, consumer=consumer)


def transcript(call) -> list[dict]:
    return json.loads(call.transcript)


@pytest.fixture
def personas(organisation, owner):
    """A running campaign calling one person of each kind."""
    numbers = [example_number(p) for p in Persona]
    return launched(organisation, owner, numbers=numbers, max_concurrent_calls=20)


@pytest.fixture
def called(personas, client, django_capture_on_commit_callbacks):
    report = dial(django_capture_on_commit_callbacks)
    play_all(client)
    return personas, report


@pytest.mark.obligation("P06", "P11")
def test_a_cooperative_person_completes_the_script_and_everything_is_recorded(called):
    campaign, report = called
    call = call_of(campaign, Persona.COOPERATIVE)

    assert report.dialled == len(Persona)
    assert (call.status, call.outcome) == (Call.Status.COMPLETED, Call.Outcome.COMPLETED_SCRIPT)
    assert call.answered_at and call.ended_at and call.duration_seconds > 0
    assert call.answered_by == "human"
    assert call.script_version == campaign.script_version
    assert call.gate_decision == "allowed"
    assert {(r.step_id, r.value) for r in call.responses.all()} == {("satisfied", "yes"), ("callback", "yes")}
    assert call.contact.state == CampaignContact.State.DONE


@pytest.mark.obligation("P50", "P52")
def test_every_answered_call_starts_with_the_ai_disclosure_naming_the_client(called):
    campaign, _ = called
    answered = [call for call in Call.objects.filter(campaign=campaign, answered_at__isnull=False) if call.transcript]
    assert len(answered) >= 7
    for call in answered:
        first = transcript(call)[0]
        assert first["speaker"] == "agent"
        assert (
            first["text"]
            == f"Hello, this is an automated AI assistant calling on behalf of {campaign.organisation.display_name}."
        )


def test_the_first_audio_is_measured_on_every_answered_call(called):
    campaign, _ = called
    answered = Call.objects.filter(campaign=campaign, answered_at__isnull=False)

    assert answered.count() >= 7
    assert not answered.filter(first_audio_ms__isnull=True).exists()
    assert not answered.filter(slow_first_audio=True).exists()


@pytest.mark.obligation("P40", "P49")
def test_stop_calling_me_mid_call_suppresses_the_number_for_every_campaign_of_the_client(
    organisation, owner, client, django_capture_on_commit_callbacks
):
    number = example_number(Persona.STOP)
    first = launched(organisation, owner, numbers=[number], name="First")
    second = launched(organisation, owner, numbers=[number], name="Second")
    services.campaign_pause(campaign=second, by=owner)
    dial(django_capture_on_commit_callbacks)
    play_all(client)

    call = first.calls.get()
    assert call.outcome == Call.Outcome.OPTED_OUT and call.opted_out_at
    assert transcript(call)[-1]["text"].startswith("Thank you.")
    assert Suppression.objects.filter(organisation=organisation, phone_index=digest("phone", number)).exists()

    services.campaign_resume(campaign=second, by=owner)
    dial(django_capture_on_commit_callbacks)
    contact = second.contacts.get()
    # The record is marked as objecting, and the number is on the client's do-not-call list.
    assert (contact.state, contact.last_decision) == (CampaignContact.State.REFUSED, GateReason.STOPPED)
    assert not second.calls.exists()


@pytest.mark.obligation("P50")
def test_asking_for_a_person_transfers_to_the_campaigns_number(called):
    campaign, _ = called
    answered, unanswered = call_of(campaign, Persona.PERSON_ANSWERED), call_of(campaign, Persona.PERSON_UNANSWERED)

    assert answered.outcome == Call.Outcome.TRANSFERRED and answered.transferred_at
    assert unanswered.outcome == Call.Outcome.FAILED
    assert "transfer was not answered" in unanswered.failure_reason
    transfers = simulator.call_state(answered.provider_sid)["transfers"]
    assert transfers[0]["to"] == campaign.transfer_number
    assert transfers[0]["caller_id"] == campaign.caller_id.number


def test_an_answering_machine_gets_the_voicemail_message_and_no_conversation(called):
    campaign, _ = called
    call = call_of(campaign, Persona.VOICEMAIL)

    assert (call.outcome, call.answered_by) == (Call.Outcome.VOICEMAIL, "machine_start")
    assert not call.responses.exists()


def test_busy_and_unanswered_calls_wait_for_their_retry_spacing(called):
    campaign, _ = called
    for persona, status in ((Persona.BUSY, Call.Status.BUSY), (Persona.NO_ANSWER, Call.Status.NO_ANSWER)):
        call = call_of(campaign, persona)
        contact = call.contact
        assert call.status == status
        assert (contact.state, contact.attempts) == (CampaignContact.State.WAITING, 1)
        assert contact.next_attempt_at == call.ended_at + datetime.timedelta(minutes=campaign.retry_spacing_minutes)


def test_voicemail_is_not_retried(called):
    campaign, _ = called
    assert call_of(campaign, Persona.VOICEMAIL).contact.state == CampaignContact.State.DONE


def test_a_person_who_hangs_up_mid_call_is_not_interested_and_not_retried(called):
    campaign, _ = called
    call = call_of(campaign, Persona.HANGS_UP)

    assert (call.status, call.outcome) == (Call.Status.COMPLETED, Call.Outcome.NOT_INTERESTED)
    assert call.contact.state == CampaignContact.State.DONE


def test_a_provider_fault_plays_the_information_message_and_counts_as_abandoned(called):
    campaign, _ = called
    call = call_of(campaign, Persona.FAULT)

    assert call.outcome == Call.Outcome.ABANDONED
    spoken = " ".join(s["text"] for s in simulator.call_state(call.provider_sid)["transcript"] if s["speaker"] == "agent")
    assert campaign.organisation.display_name in spoken and "press 9" in spoken


@pytest.mark.obligation("P49")
def test_the_72_and_24_hour_rules_hold_back_the_next_call_to_those_numbers(
    called, organisation, owner, django_capture_on_commit_callbacks
):
    numbers = [example_number(Persona.FAULT), example_number(Persona.VOICEMAIL)]
    second = launched(organisation, owner, numbers=numbers, name="Follow-up")

    dial(django_capture_on_commit_callbacks, now=TUESDAY_10AM + datetime.timedelta(hours=2))

    decisions = dict(second.contacts.values_list("consumer__phone_index", "last_decision"))
    assert decisions[digest("phone", numbers[0])] == GateReason.RECENT_ABANDONED
    assert decisions[digest("phone", numbers[1])] == GateReason.RECENT_MACHINE


@pytest.mark.obligation("P07", "P24", "P13", "P31")
def test_a_recorded_call_says_so_first_and_its_audio_is_stored_encrypted_and_gone_from_the_provider(
    organisation, owner, client, rf, django_capture_on_commit_callbacks
):
    campaign = launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE)], record_calls=True)
    dial(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        play_all(client)

    call = campaign.calls.get()
    lines = [line["text"] for line in transcript(call)]
    assert lines[1] == "This call is recorded for quality and training purposes."
    recording = Recording.objects.get(call=call)
    assert recording.status == Recording.Status.STORED and recording.provider_deleted_at
    assert not simulator.SimulatorProvider().recording_exists(recording.provider_sid)
    with storages["recordings"].open(recording.file, "rb") as stored:
        assert stored.read(4) != b"RIFF"  # encrypted at rest
    request = rf.get("/")
    request.user = owner
    assert calls.recording_audio(recording=recording, request=request)[:4] == b"RIFF"
    assert AuditEvent.objects.filter(action="recording.accessed", target_id=str(recording.pk)).exists()


@pytest.mark.obligation("P07")
def test_a_call_that_does_not_record_never_starts_a_recording(called):
    campaign, _ = called
    assert not Recording.objects.filter(call__campaign=campaign).exists()
    assert all(not simulator.call_state(c.provider_sid).get("recording") for c in campaign.calls.exclude(provider_sid=None))


def test_pausing_a_campaign_stops_new_dials_at_once(campaign, owner, django_capture_on_commit_callbacks):
    services.campaign_pause(campaign=campaign, by=owner)

    report = dial(django_capture_on_commit_callbacks)

    assert report.dialled == 0 and not campaign.calls.exists()


def test_the_check_before_each_dial_sees_a_pause_after_the_batch_was_decided(campaign, owner):
    report = dispatcher.dispatch_due()  # calls created; their tasks have not run
    services.campaign_pause(campaign=campaign, by=owner)

    for call in campaign.calls.all():
        assert calls.call_place(call_id=call.pk) == "refused"

    assert report.dialled == 3
    assert set(campaign.calls.values_list("status", flat=True)) == {Call.Status.CANCELLED}
    assert set(campaign.contacts.values_list("attempts", flat=True)) == {0}


def test_a_place_call_task_delivered_twice_dials_once(campaign):
    dispatcher.dispatch_due()
    call = campaign.calls.first()

    assert calls.call_place(call_id=call.pk) == "dialled"
    assert calls.call_place(call_id=call.pk) == "already handled"


def test_concurrency_limits_the_calls_on_the_line(organisation, owner, django_capture_on_commit_callbacks):
    numbers = [example_number(Persona.COOPERATIVE, i) for i in range(6)]
    campaign = launched(organisation, owner, numbers=numbers, max_concurrent_calls=2)

    first = dial(django_capture_on_commit_callbacks)
    second = dial(django_capture_on_commit_callbacks)

    assert (first.dialled, second.dialled) == (2, 0)
    assert campaign.contacts.filter(state=CampaignContact.State.WAITING).count() == 4


def test_the_organisation_cap_spans_its_campaigns(organisation, owner, compliance_officer, django_capture_on_commit_callbacks):
    services.calling_limit_set(organisation=organisation, max_concurrent_calls=3, reason="New client", by=compliance_officer)
    launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE, i) for i in range(3)], name="A")
    launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE, i) for i in range(3, 6)], name="B")

    assert dial(django_capture_on_commit_callbacks).dialled == 3


def test_the_campaign_completes_when_everyone_is_done(organisation, owner, client, django_capture_on_commit_callbacks):
    campaign = launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE)])
    dial(django_capture_on_commit_callbacks)
    play_all(client)

    report = dial(django_capture_on_commit_callbacks)

    campaign.refresh_from_db()
    assert campaign.pk in report.completed
    assert campaign.state == "completed"
    assert campaign.contact_lists.get().released_at is not None  # P30's clock
