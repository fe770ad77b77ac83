"""The provider's webhooks through the real views: signatures, replays, reports out of order,
unknown calls, Twilio's own signing, caller-ID validation and call-backs."""

import datetime
import json
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from campaigns import calls, dispatcher, services
from campaigns.callbacks import url_for
from campaigns.models import Call, CallerId, CampaignContact
from campaigns.telephony import simulator
from campaigns.telephony.simulator import Persona, example_number
from consumers.models import Suppression
from nextsupport.fields import digest
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import launched
from tests.campaigns.test_calls import dial, play_all, transport_for

TWILIO_SID, TWILIO_TOKEN = "AC" + "1" * 32, "twilio-test-auth-token"


def post(client, url: str, params: dict, *, signature: str | None = None, token: str | None = None):
    """POST a webhook as a provider would: form-encoded, signed over the public URL."""
    if signature is None:
        signature = RequestValidator(token or simulator.auth_token()).compute_signature(url, params)
    path = url.removeprefix("http://testserver")
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers)


@pytest.fixture
def placed(campaign, django_capture_on_commit_callbacks):
    dial(django_capture_on_commit_callbacks)
    return campaign.calls.exclude(provider_sid=None).first()


def status(call, value: str, **extra) -> dict:
    return {"CallSid": call.provider_sid, "AccountSid": simulator.account_sid(), "CallStatus": value, **extra}


@pytest.mark.obligation("P15", "P26")
@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_an_unsigned_or_wrongly_signed_webhook_is_refused_and_logged(client, placed, signature):
    response = post(client, url_for("call-status", call_id=placed.pk), status(placed, "in-progress"), signature=signature)

    assert response.status_code == 403
    placed.refresh_from_db()
    assert placed.status == Call.Status.QUEUED
    assert AuditEvent.objects.filter(action="telephony.webhook_refused").exists()


def test_a_signature_for_another_address_is_refused(client, placed):
    params = status(placed, "in-progress")
    signed_elsewhere = RequestValidator(simulator.auth_token()).compute_signature("http://internal:8000/telephony/x", params)

    assert post(client, url_for("call-status", call_id=placed.pk), params, signature=signed_elsewhere).status_code == 403


def test_completed_before_answered_changes_nothing_wrong(client, placed):
    post(client, url_for("call-status", call_id=placed.pk), status(placed, "completed", CallDuration="0"))
    post(client, url_for("call-status", call_id=placed.pk), status(placed, "in-progress"))

    placed.refresh_from_db()
    assert placed.status == Call.Status.COMPLETED
    assert placed.answered_at is None


def test_a_webhook_for_a_call_we_do_not_know_is_answered_harmlessly(client, placed):
    url = url_for("call-turn", call_id=999_999)

    response = post(client, url, {"CallSid": "CA" + "0" * 32, "SpeechResult": "yes"})

    assert response.status_code == 200
    assert b"<Hangup" in response.content


def test_a_webhook_naming_another_call_is_ignored(client, placed):
    params = status(placed, "in-progress", CallSid="CA" + "f" * 32)

    post(client, url_for("call-status", call_id=placed.pk), params)

    placed.refresh_from_db()
    assert placed.status == Call.Status.QUEUED


def test_a_replayed_turn_gets_the_same_answer_and_changes_nothing(client, placed):
    post(client, url_for("call-status", call_id=placed.pk), status(placed, "in-progress"))
    turn_url = url_for("call-turn", call_id=placed.pk) + "?turn=0"
    turn = {"CallSid": placed.provider_sid, "SpeechResult": "yes", "Confidence": "0.9"}

    first = post(client, turn_url, turn)
    again = post(client, turn_url, turn)

    placed.refresh_from_db()
    assert first.content == again.content
    assert placed.conversation_state["turn"] == 1
    assert [r.step_id for r in placed.responses.all()] == ["satisfied"]
    assert sum(1 for line in json.loads(placed.transcript) if line["speaker"] == "person") == 1


@pytest.mark.obligation("P24")
def test_twilio_signed_webhooks_for_a_twilio_call_are_verified_with_its_auth_token(settings, client, placed):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = TWILIO_SID, TWILIO_TOKEN
    Call.objects.filter(pk=placed.pk).update(provider="twilio")
    url = url_for("call-status", call_id=placed.pk)
    params = status(placed, "ringing", AccountSid=TWILIO_SID)

    # The simulator's key does not open a Twilio call's webhooks.
    assert post(client, url, params).status_code == 403
    assert post(client, url, params, token=TWILIO_TOKEN).status_code == 200

    placed.refresh_from_db()
    assert placed.status == Call.Status.RINGING


@pytest.mark.obligation("P50")
def test_a_caller_id_is_verified_by_the_simulated_validation_call(organisation, owner, client):
    caller_id = services.caller_id_request(organisation=organisation, number="0113 496 0100", label="Leeds office", by=owner)
    assert caller_id.status == CallerId.Status.PENDING and len(caller_id.validation_code) == 6

    simulator.play_caller_id_validation(caller_id.provider_reference, transport=transport_for(client))

    caller_id.refresh_from_db()
    assert caller_id.status == CallerId.Status.VERIFIED and caller_id.verified_at


@pytest.mark.obligation("P50")
@pytest.mark.parametrize("number", ["0906 123 4567", "0871 234 5678", "+33 1 23 45 67 89", "070 1234 5678"])
def test_premium_rate_and_foreign_caller_ids_are_refused(organisation, owner, number):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.caller_id_request(organisation=organisation, number=number, label="Line", by=owner)
    assert not CallerId.objects.filter(organisation=organisation).exclude(status=CallerId.Status.VERIFIED).exists()


@pytest.mark.obligation("P40", "P50")
def test_calling_the_caller_id_back_names_the_client_and_offers_an_opt_out(client, campaign):
    caller = "07911 100555"
    params = {"CallSid": "CA" + "a" * 32, "From": "+447911100555", "To": campaign.caller_id.number}

    greeting = post(client, url_for("callback"), params)
    stopped = post(client, url_for("callback-stop"), {**params, "Digits": "9"})

    assert campaign.organisation.display_name.encode() in greeting.content
    assert b"press 9" in greeting.content
    assert b"will not call your number again" in stopped.content
    assert Suppression.objects.filter(organisation=campaign.organisation, phone_index=digest("phone", caller)).exists()


@pytest.mark.obligation("P40")
def test_an_opt_out_the_agent_missed_is_caught_in_the_transcript_after_the_call(client, placed):
    post(client, url_for("call-status", call_id=placed.pk), status(placed, "in-progress"))
    # The transcript holds an opt-out no turn acted on (the guardrails hear it live; the scan
    # after the call is the backstop for whatever slips past them).
    call = Call.objects.get(pk=placed.pk)
    call.transcript = json.dumps([{"speaker": "person", "text": "please don't ring me again", "at": 3}])
    call.save(update_fields=["transcript"])

    post(client, url_for("call-status", call_id=placed.pk), status(placed, "completed", CallDuration="20"))

    placed.refresh_from_db()
    assert placed.outcome == Call.Outcome.OPTED_OUT
    assert Suppression.objects.filter(organisation=placed.organisation, phone_index=placed.phone_index).exists()


def test_calls_that_never_report_back_are_failed_and_retried_later_never_redialled_at_once(campaign, tuesday_morning):
    report = dispatcher.dispatch_due()  # three calls created; their dial tasks never run
    assert report.dialled == 3
    first = campaign.calls.order_by("pk").first()
    assert calls.call_place(call_id=first.pk) == "dialled"  # ...except this one, which then goes silent

    tuesday_morning.shift(datetime.timedelta(minutes=11))
    counts = calls.calls_reconcile_stale()

    assert counts == {"requeued": 2, "failed": 1}
    first.refresh_from_db()
    assert (first.status, first.outcome) == (Call.Status.FAILED, Call.Outcome.FAILED)
    contact = first.contact
    assert contact.state == CampaignContact.State.WAITING
    assert contact.next_attempt_at >= first.ended_at + datetime.timedelta(minutes=campaign.retry_spacing_minutes)


def test_a_webhook_that_arrives_before_the_sid_was_saved_attaches_it(client, campaign):
    dispatcher.dispatch_due()
    call = campaign.calls.first()
    sid = "CA" + "b" * 32

    post(client, url_for("call-status", call_id=call.pk), {"CallSid": sid, "CallStatus": "ringing"})

    call.refresh_from_db()
    assert (call.provider_sid, call.status) == (sid, Call.Status.RINGING)


def test_a_person_answering_on_the_keypad_completes_the_script(organisation, owner, client, django_capture_on_commit_callbacks):
    campaign = launched(organisation, owner, numbers=[example_number(Persona.KEYPAD)])
    dial(django_capture_on_commit_callbacks)
    play_all(client)

    call = campaign.calls.get()
    assert call.outcome == Call.Outcome.COMPLETED_SCRIPT
    assert {r.value for r in call.responses.all()} <= {"yes", "no"}


@pytest.mark.obligation("P40")
def test_an_opt_out_by_calling_back_reaches_the_clients_webhook_too(client, campaign, django_capture_on_commit_callbacks):
    from campaigns.models import WebhookDelivery, WebhookEvent
    from tests.factories import WebhookEndpointFactory

    WebhookEndpointFactory(organisation=campaign.organisation, events=[WebhookEvent.CONSUMER_OPTED_OUT])
    caller = campaign.contacts.first().consumer
    params = {"CallSid": "CA" + "c" * 32, "From": caller.phone, "To": campaign.caller_id.number, "Digits": "9"}

    with django_capture_on_commit_callbacks():  # the delivery is sent by a task; here it is only queued
        post(client, url_for("callback-stop"), params)

    delivery = WebhookDelivery.objects.get(event=WebhookEvent.CONSUMER_OPTED_OUT)
    assert delivery.payload["data"]["call"] is None and delivery.payload["data"]["consumer"] == caller.pk
    assert delivery.payload["data"]["number"].startswith("•••")
    caller.refresh_from_db()
    assert caller.objected_at is not None
