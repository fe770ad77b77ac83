"""What happens on the line: placing a call, the provider's reports, each turn of the conversation,
recordings, and the end of a call. Writes, like `services`, but for one call at a time.

    call_place(call_id=...)            a worker dials a call the dispatcher created (gate checked again first)
    call_event(call=..., event=...)    a verified provider webhook; returns the TwiML to answer with
    callback_event(event=...)          someone rang a caller ID back
    recording_store(recording_id=...)  fetch a recording into our storage, delete the provider's copy
    calls_reconcile_stale(now=...)     calls the provider never reported back on

Every webhook is applied under a row lock on its call, so two reports for one
call (an answering-machine result racing a turn) are applied one after the
other. Reports that come out of order (completed before answered), twice, or
for a call that is over change nothing they should not, and are logged.
"""

import datetime
import json
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from consumers import services as consumer_services
from consumers.models import ConsentRecord, SuppressionReason, SuppressionSource
from nextsupport import audit, crypto
from nextsupport.identifiers import InvalidPhoneNumber, display_phone, normalise_phone

from . import gate, script, services, signals, tasks, telephony
from .callbacks import callback_urls, url_for
from .conversation import engine, guardrails, replies
from .models import Call, CallerId, CallResponse, Campaign, CampaignContact, Recording
from .telephony import twiml
from .telephony.base import CallEvent, CallRequest, ProviderError

log = logging.getLogger(__name__)

_RANK = {Call.Status.QUEUED: 0, Call.Status.RINGING: 1, Call.Status.IN_PROGRESS: 2}
_FINAL_RANK = 3
# Retries follow the campaign's spacing, and only for these.
RETRIED = (Call.Status.BUSY, Call.Status.NO_ANSWER, Call.Status.FAILED)
# A provider error that may pass (a timeout, a 5xx) is tried again this soon, without spending an attempt.
TRANSIENT_RETRY = datetime.timedelta(minutes=2)
# A call on the line with no report for this long (a transfer can last a while) is given up on.
IN_PROGRESS_STALE_AFTER = datetime.timedelta(hours=2)
_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _rank(status: str) -> int:
    return _RANK.get(status, _FINAL_RANK)


def _client(campaign: Campaign) -> str:
    return campaign.organisation.display_name


def _callback(campaign: Campaign) -> str:
    """The caller ID as people write it: the number to ring back to decline further calls."""
    return display_phone(campaign.caller_id.number) if campaign.caller_id_id else "the number that called you"


# --- Placing a call -------------------------------------------------------------------------


def call_place(*, call_id: int) -> str:
    """Dial a call the dispatcher created. Idempotent: a redelivered task finds the call claimed and does nothing.

    The gate runs again just before the dial (the person may have opted out on
    another call since the batch was decided, or the campaign been paused).
    """
    now = timezone.now()
    claimed = Call.objects.filter(pk=call_id, status=Call.Status.QUEUED, dial_requested_at__isnull=True).update(
        dial_requested_at=now
    )
    if not claimed:
        return "already handled"
    call = Call.objects.select_related(
        "campaign__organisation", "campaign__caller_id", "contact__consumer", "script_version"
    ).get(pk=call_id)
    contact = call.contact
    if contact is None or contact.consumer_id is None:
        _cancel(call, gate.Decision(0, "erased", "The person's data was erased before the dial."), contact=None)
        return "cancelled"
    contact.campaign = call.campaign
    decision = gate.decide_one(contact, now=now, dialling=True)
    if not decision.allowed:
        _cancel(call, decision, contact=contact)
        return "refused"
    script_ = services.script_for(call.campaign, call.script_version)
    opening = engine.opening(script_)
    request = CallRequest(
        call_id=call.pk,
        to=contact.consumer.phone,
        caller_id=call.campaign.caller_id.number,
        instructions=_opening_twiml(call, script_, opening),
        callbacks=callback_urls(call.pk),
        ring_timeout_seconds=max(20, settings.TELEPHONY_RING_TIMEOUT_SECONDS),
    )
    Call.objects.filter(pk=call.pk).update(conversation_state=_state(opening.state, turn=0))
    try:
        sid = telephony.provider(call.provider).place_call(request)
    except ProviderError as exc:
        _dial_failed(call, exc)
        return "failed"
    # A fast provider may already have reported (and so attached its sid) before this line.
    Call.objects.filter(pk=call.pk, provider_sid__isnull=True).update(provider_sid=sid)
    Call.objects.filter(pk=call.pk, dialled_at__isnull=True).update(dialled_at=now)
    return "dialled"


def _opening_twiml(call: Call, script_, opening) -> str:
    """The opening, sent with the call: first audio the moment the person answers.

    The platform's lines and the greeting are spoken whole, outside the gather,
    so no answer can cut the disclosure short (P52). When the call records, the
    platform's lines (disclosure, recording notice, options) are followed by a
    redirect to the turn webhook, which starts the recording only after the
    notice has been spoken (P07), then greets and asks the first question.
    """
    if call.records:
        return twiml.opening_twiml(script_.platform_lines(), redirect_to=_turn_url(call, 0, phase="opened"))
    if opening.action != engine.Action.LISTEN:
        return twiml.turn_twiml(list(opening.say), opening.action)
    return twiml.opening_twiml(opening.say[:-1], gather_action=_turn_url(call, 0), question=opening.say[-1:])


def _turn_url(call: Call, turn: int, *, phase: str = "") -> str:
    url = f"{url_for('call-turn', call_id=call.pk)}?turn={turn}"
    return f"{url}&phase={phase}" if phase else url


def _state(engine_state: dict, *, turn: int, last_twiml: str = "") -> dict:
    return {"engine": engine_state, "turn": turn, "last_twiml": last_twiml}


@transaction.atomic
def _cancel(call: Call, decision, *, contact: CampaignContact | None) -> None:
    """The last check refused the dial: the call never happens, and the attempt is not spent."""
    now = timezone.now()
    Call.objects.filter(pk=call.pk).update(status=Call.Status.CANCELLED, failure_reason=decision.message[:200], ended_at=now)
    if contact is not None:
        state = CampaignContact.State.REFUSED if decision.final else CampaignContact.State.WAITING
        CampaignContact.objects.filter(pk=contact.pk).update(
            state=state,
            attempts=F("attempts") - 1,
            next_attempt_at=decision.retry_at or now,
            last_decision=decision.reason,
            last_decided_at=now,
            updated_at=now,
        )
        services.gate_tally(campaign_id=call.campaign_id, counts={decision.reason: 1})


@transaction.atomic
def _dial_failed(call: Call, exc: ProviderError) -> None:
    now = timezone.now()
    Call.objects.filter(pk=call.pk).update(
        status=Call.Status.FAILED, outcome=Call.Outcome.FAILED, failure_reason=str(exc)[:200], ended_at=now
    )
    if call.contact_id is None:
        return
    if exc.permanent:
        CampaignContact.objects.filter(pk=call.contact_id).update(
            state=CampaignContact.State.DONE, outcome=Call.Outcome.FAILED, updated_at=now
        )
    else:
        CampaignContact.objects.filter(pk=call.contact_id).update(
            state=CampaignContact.State.WAITING, attempts=F("attempts") - 1, next_attempt_at=now + TRANSIENT_RETRY, updated_at=now
        )


# --- Provider reports -----------------------------------------------------------------------


@transaction.atomic
def call_event(*, call: Call, event: CallEvent, turn: int | None = None, phase: str = "") -> str:
    """Apply one verified webhook to its call; returns the TwiML to answer with ('' when none is needed)."""
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("campaign__organisation", "campaign__caller_id", "consumer")
        .get(pk=call.pk)
    )
    if call.provider_sid is None and event.call_sid:
        call.provider_sid = event.call_sid  # the dial's worker died before it could save the sid
    elif event.call_sid and event.call_sid != call.provider_sid:
        log.warning("Webhook %s for call %s names another call (%s): ignored.", event.kind, call.pk, event.call_sid)
        return _EMPTY
    call.last_event_at = timezone.now()
    handler = _HANDLERS[event.kind]
    answer = handler(call, event, turn=turn, phase=phase)
    call.save()
    return answer


def _on_status(call: Call, event: CallEvent, **_) -> str:
    if event.status is None:
        log.warning("Call %s: a status report without a status we know (%s).", call.pk, event.raw.get("CallStatus"))
        return ""
    if call.is_final:
        log.info("Call %s: %s reported after the call ended as %s; ignored.", call.pk, event.status, call.status)
        return ""
    if _rank(event.status) < _rank(call.status):
        log.info("Call %s: %s reported after %s (out of order); ignored.", call.pk, event.status, call.status)
        return ""
    at = event.occurred_at or timezone.now()
    if event.status == Call.Status.RINGING:
        call.status = Call.Status.RINGING
    elif event.status == Call.Status.IN_PROGRESS:
        _answered(call, at)
    elif _rank(event.status) == _FINAL_RANK:
        _ended(call, event, at)
    return ""


def _answered(call: Call, at: datetime.datetime) -> None:
    if call.status == Call.Status.IN_PROGRESS:
        return
    call.status, call.answered_at = Call.Status.IN_PROGRESS, call.answered_at or at
    # The opening travels with the call, so it plays from the moment of answer.
    call.first_audio_at = call.first_audio_at or call.answered_at
    _measure_first_audio(call)
    refused = gate.campaign_refusal(call.campaign, at)
    if refused and not call.outcome:
        # Paused, cancelled or suspended between the dial and the answer: the
        # person hears who called and how to decline, and the call ends (Ofcom).
        call.outcome, call.failure_reason = Call.Outcome.ABANDONED, refused[1][:200]
        _provider_update(
            call, twiml.message_then_hangup([script.information_message(_client(call.campaign), _callback(call.campaign))])
        )


def _measure_first_audio(call: Call) -> None:
    if call.answered_at and call.first_audio_at:
        call.first_audio_ms = max(0, int((call.first_audio_at - call.answered_at).total_seconds() * 1000))
        call.slow_first_audio = call.first_audio_ms > settings.CALL_FIRST_AUDIO_LIMIT_MS
        if call.slow_first_audio:
            log.warning(
                "Call %s: first audio %d ms after answer (limit %d).",
                call.pk,
                call.first_audio_ms,
                settings.CALL_FIRST_AUDIO_LIMIT_MS,
            )


def _provider_update(call: Call, instructions: str) -> None:
    try:
        telephony.provider(call.provider).update_call(call.provider_sid, instructions)
    except ProviderError as exc:
        log.warning("Call %s: the provider refused new instructions: %s", call.pk, exc)


def _ended(call: Call, event: CallEvent, at: datetime.datetime) -> None:
    call.status, call.ended_at = event.status, at
    if event.duration_seconds is not None:
        call.duration_seconds = event.duration_seconds
    elif call.answered_at:
        call.duration_seconds = max(0, int((at - call.answered_at).total_seconds()))
    if not call.outcome:
        call.outcome = _outcome_of_unfinished(call)
    _contact_after(call)
    _scan_transcript(call)
    signals.call_ended.send(sender=Call, call=call)


def _outcome_of_unfinished(call: Call) -> str:
    """The outcome of a call that ended without the conversation deciding one."""
    if call.status == Call.Status.FAILED:
        return Call.Outcome.FAILED
    if call.status == Call.Status.COMPLETED and call.answered_at:
        # The person hung up before the script finished.
        return Call.Outcome.NOT_INTERESTED
    return ""


def _contact_after(call: Call) -> None:
    """Where the contact stands once a call ends: finished, or waiting for its next attempt."""
    if call.contact_id is None:
        return
    contact = CampaignContact.objects.select_for_update().get(pk=call.contact_id)
    campaign = call.campaign
    retry = call.status in RETRIED and call.outcome in ("", Call.Outcome.FAILED) and contact.attempts < campaign.max_attempts
    if retry and not campaign.has_ended:
        contact.state = CampaignContact.State.WAITING
        contact.next_attempt_at = call.ended_at + datetime.timedelta(minutes=campaign.retry_spacing_minutes)
    else:
        contact.state = CampaignContact.State.DONE
    contact.outcome = call.outcome or call.status
    contact.save(update_fields=["state", "next_attempt_at", "outcome", "updated_at"])


def _on_machine(call: Call, event: CallEvent, **_) -> str:
    answered_by = (event.answered_by or "unknown")[:24]
    if call.answered_by:
        return ""  # a repeat
    call.answered_by = answered_by
    if call.is_final or call.outcome:
        return ""
    campaign = call.campaign
    if answered_by.startswith("machine"):
        call.outcome = Call.Outcome.VOICEMAIL
        _provider_update(call, twiml.message_then_hangup([script.voicemail_message(_client(campaign), _callback(campaign))]))
    elif answered_by == "fax":
        call.outcome, call.failure_reason = Call.Outcome.FAILED, "A fax machine answered."
        try:
            telephony.provider(call.provider).hang_up(call.provider_sid)
        except ProviderError as exc:
            log.warning("Call %s: could not hang up on a fax: %s", call.pk, exc)
    return ""


# --- The conversation -----------------------------------------------------------------------


def _transcript(call: Call) -> list:
    return json.loads(call.transcript) if call.transcript else []


def _say(call: Call, speaker: str, text: str, *, at: float | None = None) -> None:
    """Add a line to the transcript, `at` seconds after the answer (now, unless given)."""
    lines = _transcript(call)
    if at is None:
        at = (timezone.now() - call.answered_at).total_seconds() if call.answered_at else 0
    lines.append({"speaker": speaker, "text": text, "at": round(at, 1)})
    call.transcript = json.dumps(lines, ensure_ascii=False)


def _heard_text(event: CallEvent) -> str:
    if event.speech:
        return event.speech.strip()[:500]
    return f"[pressed {event.digits[:8]}]" if event.digits else "[silence]"


def _on_turn(call: Call, event: CallEvent, *, turn: int | None, phase: str) -> str:
    if call.is_final or call.outcome in (Call.Outcome.ABANDONED, Call.Outcome.VOICEMAIL):
        return twiml.message_then_hangup([])
    if call.status != Call.Status.IN_PROGRESS:
        log.info("Call %s: a turn before the answer was reported; taking it as answered.", call.pk)
        _answered(call, timezone.now())
        if call.outcome:
            return twiml.message_then_hangup([])
    state = call.conversation_state or {}
    if turn is not None and turn != state.get("turn", 0):
        log.info("Call %s: turn %s replayed (now at %s); answering as before.", call.pk, turn, state.get("turn"))
        return state.get("last_twiml") or _EMPTY
    script_ = services.script_for(call.campaign, call.script_version)
    if not call.transcript:
        # The opening played from the answer, before this first report of the call (when the call
        # records, only the platform's lines did: the greeting and first question follow now).
        opening = engine.opening(script_).say
        from_answer = len(script_.platform_lines()) if phase == "opened" else len(opening)
        for i, line in enumerate(opening):
            _say(call, "agent", line, at=0 if i < from_answer else None)
    if phase == "opened":
        return _after_opening(call, script_, state)
    return _converse(call, script_, state, event)


def _after_opening(call: Call, script_, state: dict) -> str:
    """The recording notice has been spoken: start recording, then greet and ask the first question."""
    if call.records and not Recording.objects.filter(call=call).exists():
        try:
            telephony.provider(call.provider).start_recording(
                call.provider_sid, status_callback=url_for("call-recording", call_id=call.pk)
            )
        except ProviderError as exc:
            log.warning("Call %s: recording could not start: %s", call.pk, exc)
    opening = engine.opening(script_)
    rest = list(opening.say[len(script_.platform_lines()) :])
    answer = twiml.turn_twiml(rest, opening.action, gather_action=_turn_url(call, 1))
    call.conversation_state = _state(opening.state, turn=1, last_twiml=answer)
    return answer


def _converse(call: Call, script_, state: dict, event: CallEvent) -> str:
    heard = engine.Heard(speech=event.speech or "", digits=event.digits or "", confidence=event.confidence)
    _say(call, "person", _heard_text(event))
    turn = engine.next_turn(script_, state.get("engine") or {}, heard, replies=replies.reply_generator())
    for line in turn.say:
        _say(call, "agent", line)
    for response in turn.responses:
        CallResponse.objects.update_or_create(
            call=call,
            step_id=response.step_id,
            defaults={"question": response.question[:300], "value": response.value, "heard": response.heard},
        )
    if turn.opt_out:
        _opt_out(call, at=timezone.now())
    if turn.outcome and call.outcome != Call.Outcome.OPTED_OUT:
        call.outcome = turn.outcome
    next_number = state.get("turn", 0) + 1
    campaign = call.campaign
    if turn.action == engine.Action.TRANSFER:
        call.transferred_at = timezone.now()
        answer = twiml.turn_twiml(
            list(turn.say),
            turn.action,
            transfer_to=campaign.transfer_number,
            caller_id=campaign.caller_id.number,
            dial_action=url_for("call-dial", call_id=call.pk),
        )
    else:
        answer = twiml.turn_twiml(list(turn.say), turn.action, gather_action=_turn_url(call, next_number))
    call.conversation_state = _state(turn.state, turn=next_number, last_twiml=answer)
    return answer


def _opt_out(call: Call, *, at: datetime.datetime) -> None:
    """P40: "stop" on a call suppresses the number for every campaign of the client, at once."""
    if call.opted_out_at:
        return
    call.opted_out_at = at
    call.outcome = Call.Outcome.OPTED_OUT
    if call.consumer is not None:
        consumer_services.consumer_record_objection(
            consumer=call.consumer,
            reason=SuppressionReason.OPT_OUT,
            source=SuppressionSource.CALL_OPT_OUT,
            method=ConsentRecord.Method.CALL,
            occurred_at=at,
        )
    elif call.phone_index:
        consumer_services.suppression_add(
            phone_index=bytes(call.phone_index),
            organisation=call.organisation,
            reason=SuppressionReason.OPT_OUT,
            source=SuppressionSource.CALL_OPT_OUT,
        )
    signals.opt_out_recorded.send(sender=Call, call=call, consumer=call.consumer, organisation_id=call.organisation_id)


def _scan_transcript(call: Call) -> None:
    """After each call: an opt-out the agent missed still suppresses the number."""
    said = [line["text"] for line in _transcript(call) if line.get("speaker") == "person"]
    if said and not call.opted_out_at and guardrails.missed_opt_out(said):
        log.info("Call %s: an opt-out found in the transcript after the call; suppressing.", call.pk)
        _opt_out(call, at=timezone.now())


def _on_fallback(call: Call, event: CallEvent, **_) -> str:
    """The provider could not get or run our instructions: the person hears who called and how to decline."""
    log.warning("Call %s: the provider fell back (error %s).", call.pk, event.error_code or "unknown")
    if not call.outcome and not call.is_final:
        call.outcome, call.failure_reason = (
            Call.Outcome.ABANDONED,
            f"The platform did not answer the provider (error {event.error_code or '?'}).",
        )
    return twiml.message_then_hangup([script.information_message(_client(call.campaign), _callback(call.campaign))])


def _on_dial(call: Call, event: CallEvent, **_) -> str:
    """The transfer to a person ended: connected, or nobody answered."""
    if event.dial_status in ("completed", "answered"):
        return twiml.message_then_hangup([])
    call.outcome = Call.Outcome.FAILED
    call.failure_reason = f"Asked for a person; the transfer was not answered ({event.dial_status or 'no status'})."
    return twiml.message_then_hangup([script.transfer_failed(_client(call.campaign), _callback(call.campaign))])


def _on_recording(call: Call, event: CallEvent, **_) -> str:
    if not event.recording_sid:
        log.warning("Call %s: a recording report without a recording id.", call.pk)
        return ""
    if event.recording_status != "completed":
        log.warning("Call %s: recording %s ended as %s.", call.pk, event.recording_sid, event.recording_status or "unknown")
        return ""
    if not call.records:
        log.error("Call %s: a recording arrived for a call that was not to be recorded; deleting it at the provider.", call.pk)
        transaction.on_commit(lambda: tasks.delete_provider_recording.delay(call.provider, event.recording_sid))
        return ""
    recording, created = Recording.objects.get_or_create(
        provider_sid=event.recording_sid[:64],
        defaults={"call": call, "organisation_id": call.organisation_id, "duration_seconds": event.recording_duration},
    )
    if created:
        tasks.store_recording.delay_on_commit(recording.pk)
    return ""


_HANDLERS = {
    "status": _on_status,
    "machine_detection": _on_machine,
    "turn": _on_turn,
    "fallback": _on_fallback,
    "dial": _on_dial,
    "recording": _on_recording,
}


# --- Someone calls the caller ID back --------------------------------------------------------


def _caller_ids_for(number: str) -> list[CallerId]:
    try:
        e164 = normalise_phone(number)
    except InvalidPhoneNumber:
        return []
    return list(
        CallerId.objects.filter(number_index__matches=e164, status=CallerId.Status.VERIFIED).select_related("organisation")
    )


def callback_event(*, event: CallEvent, stop_url: str) -> str:
    """A call back to a caller ID: the message names the client and offers the opt-out (Ofcom)."""
    caller_ids = _caller_ids_for(event.to_number)
    if not caller_ids:
        return twiml.message_then_hangup(["Sorry, this number is not in use for calls from NextSupport. Goodbye."])
    names = " and ".join(sorted({c.organisation.display_name for c in caller_ids}))
    return twiml.gather_for_callback([script.callback_greeting(names)], stop_url)


@transaction.atomic
def callback_opt_out(*, event: CallEvent) -> str:
    """The caller pressed 9 or said stop: their number goes on the do-not-call list of every client using this caller ID."""
    caller_ids = _caller_ids_for(event.to_number)
    wants_out = event.digits.startswith(script.STOP_DIGIT) or (bool(event.speech) and guardrails.missed_opt_out([event.speech]))
    if not caller_ids or not wants_out:
        return twiml.message_then_hangup([script.GOODBYE])
    try:
        caller = normalise_phone(event.from_number)
    except InvalidPhoneNumber:
        return twiml.message_then_hangup(
            ["Sorry, we cannot see the number you are calling from, so we cannot stop the calls this way. Goodbye."]
        )
    names = " and ".join(sorted({c.organisation.display_name for c in caller_ids}))
    for caller_id in caller_ids:
        consumer_services.suppression_add(
            phone=caller,
            organisation=caller_id.organisation,
            reason=SuppressionReason.OPT_OUT,
            source=SuppressionSource.CALL_OPT_OUT,
        )
        for consumer in caller_id.organisation.consumers.filter(phone_index__matches=caller):
            consumer = consumer_services.consumer_record_objection(
                consumer=consumer,
                reason=SuppressionReason.OPT_OUT,
                source=SuppressionSource.CALL_OPT_OUT,
                method=ConsentRecord.Method.CALL,
            )
            # No call to point at: the client's systems hear of it all the same.
            signals.opt_out_recorded.send(sender=Call, call=None, consumer=consumer, organisation_id=consumer.organisation_id)
    return twiml.message_then_hangup([script.callback_confirmation(names)])


# --- Recordings -----------------------------------------------------------------------------


def _recording_aad(recording: Recording) -> bytes:
    return f"campaigns.recording.{recording.pk}".encode()


def recording_store(*, recording_id: int) -> str:
    """Fetch the audio into our storage, encrypted; then delete the provider's copy and check it is gone (P24, P31)."""
    recording = Recording.objects.select_related("call").filter(pk=recording_id).first()
    if recording is None or recording.status in (Recording.Status.STORED, Recording.Status.DELETED):
        return "nothing to do"
    provider = telephony.provider(recording.call.provider)
    Recording.objects.filter(pk=recording.pk).update(attempts=F("attempts") + 1)
    fetched = provider.fetch_recording(recording.provider_sid)
    sealed = crypto.keyring().encrypt(fetched.content, _recording_aad(recording))
    storage = storages["recordings"]
    name = storage.save(f"calls/{recording.organisation_id}/{recording.call_id}-{recording.pk}.bin", ContentFile(sealed))
    Recording.objects.filter(pk=recording.pk).update(
        status=Recording.Status.STORED,
        file=name,
        content_type=fetched.content_type[:40],
        size_bytes=len(fetched.content),
        stored_at=timezone.now(),
    )
    provider.delete_recording(recording.provider_sid)
    if provider.recording_exists(recording.provider_sid):
        raise ProviderError(f"Recording {recording.provider_sid} is still at the provider after deletion.")
    Recording.objects.filter(pk=recording.pk).update(provider_deleted_at=timezone.now())
    return "stored"


def recording_plaintext(recording: Recording) -> bytes:
    """The decrypted audio. Callers audit the access: a playback here, a data-subject request's package in compliance."""
    if recording.status != Recording.Status.STORED or not recording.file:
        raise FileNotFoundError("This recording is not available.")
    with storages["recordings"].open(recording.file, "rb") as handle:
        return crypto.keyring().decrypt(handle.read(), _recording_aad(recording))


def recording_audio(*, recording: Recording, request) -> bytes:
    """The decrypted audio, for someone allowed to hear it; every playback is an audit event (P13)."""
    audio = recording_plaintext(recording)
    audit.record(
        audit.RECORDING_ACCESSED,
        request=request,
        target=recording,
        organisation_id=recording.organisation_id,
        details={"call": recording.call_id},
    )
    return audio


def recordings_delete(*, queryset) -> int:
    """Delete recordings and their files (retention, erasure): the file first, then the row."""
    storage = storages["recordings"]
    count = 0
    for recording in queryset.iterator(chunk_size=200):
        if recording.file:
            storage.delete(recording.file)
        recording.delete()
        count += 1
    return count


def calls_erase(*, queryset) -> int:
    """Erase calls' personal data: recordings and responses go, the call keeps its counts and durations only."""
    ids = list(queryset.values_list("pk", flat=True))
    recordings_delete(queryset=Recording.objects.filter(call_id__in=ids))
    CallResponse.objects.filter(call_id__in=ids).delete()
    return Call.objects.filter(pk__in=ids).update(
        transcript=None, consumer=None, contact=None, phone_index=None, conversation_state={}
    )


# --- Calls that never reported back --------------------------------------------------------


def calls_reconcile_stale(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Calls the provider never reported back on. Never dials anyone twice:

    - never handed to a worker (the task was lost): handed again, since no dial can have happened;
    - handed over but no sid and no report: the worker died around the dial; the call is
      failed and the contact waits its retry spacing like any failed call;
    - a sid but no final report for too long: failed, likewise.
    """
    now = now or timezone.now()
    stale = now - settings.CALL_STALE_AFTER
    counts = {"requeued": 0, "failed": 0}
    for call_id in Call.objects.filter(
        status=Call.Status.QUEUED, dial_requested_at__isnull=True, created_at__lt=stale
    ).values_list("pk", flat=True):
        tasks.place_call.delay_on_commit(call_id)
        counts["requeued"] += 1
    lost = Call.objects.filter(
        status__in=[Call.Status.QUEUED, Call.Status.RINGING], dial_requested_at__lt=stale, last_event_at__isnull=True
    )
    lost = lost | Call.objects.filter(status__in=Call.ON_THE_LINE, last_event_at__lt=now - IN_PROGRESS_STALE_AFTER)
    for call in lost.select_related("campaign"):
        counts["failed"] += _give_up(call, now)
    return counts


@transaction.atomic
def _give_up(call: Call, now: datetime.datetime) -> int:
    call = Call.objects.select_for_update(of=("self",)).select_related("campaign__organisation").get(pk=call.pk)
    if call.is_final:
        return 0
    call.status, call.ended_at = Call.Status.FAILED, now
    call.outcome = call.outcome or Call.Outcome.FAILED
    call.failure_reason = "The telephone network never reported back on this call."
    call.save()
    _contact_after(call)
    signals.call_ended.send(sender=Call, call=call)
    return 1
