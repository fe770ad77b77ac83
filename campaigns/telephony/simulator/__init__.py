"""The simulated phone network: the default provider for `make run` and the demo, and a real one.

It implements the same interface as Twilio and behaves like it from the
platform's side: a placed call rings, is answered (or not) by a simulated
person, and every step reaches the platform as a Twilio-shaped webhook, signed
with the simulator's auth token (X-Twilio-Signature), at the URLs the platform
gave (CallRequest.callbacks and the action URLs in its TwiML). The simulator
runs the TwiML it gets back (Say, Play, Pause, Gather, Redirect, Dial, Hangup),
so the platform's real views, gate and conversation engine run as in production.

Who answers is decided by the dialled number's last two digits (PERSONAS).

Process model: `place_call` (in whichever process dials) stores the call and,
with TELEPHONY_SIMULATOR_AUTORUN, queues `campaigns.tasks.simulate_call` on the
"simulator" queue, whose worker plays the whole call (`play_call`), pausing
TELEPHONY_SIMULATOR_PACE x the realistic time of each step. The web process
meanwhile receives update_call, hang_up and start_recording from the platform's
views: they are written to the call's file, which the playing loop reads after
every step. Files, under TELEPHONY_SIMULATOR_DIR:

    calls/<CallSid>.json             the call: request, line state, the platform's commands, and once it
                                     ended its transcript and transfers (who was dialled, showing what caller ID)
    calls/<CallSid>.lock             serialises read-modify-write of the call's file between processes
    recordings/<RecordingSid>.wav    the simulated provider's recordings (fetch, delete, exists)
    validations/<CallSid>.json       caller-ID validations waiting for their simulated person
    messages/<SmsSid>.json           text messages sent (to, body, sent_at): where a developer or a test
                                     reads a one-time code sent "by SMS"

Times reported (Timestamp, CallDuration, RecordingDuration) follow the call's
simulated clock, which advances by each step's realistic length: the wall clock
at pace 1, the times the call would have had at pace 0 (tests).

The parts: `people` (the personas), `call` (one call played: the person, the
clock, the TwiML interpreter), `network` (signed webhooks and their transport),
`files` (the state above), `audio` (the recordings' WAV).
"""

import dataclasses
import logging
import secrets
import time
import uuid

from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from nextsupport.identifiers import mask_phone

from .. import parsing
from ..base import (
    CallerIdValidation,
    CallEvent,
    CallRequest,
    FetchedRecording,
    Provider,
    ProviderError,
    check_call_request,
    check_instructions,
    check_sms,
)
from . import files
from .call import SimulatedCall
from .files import call_state
from .network import Transport, account_sid, auth_token, http_transport, send, sign
from .people import PERSONAS, Persona, example_number, persona_for

logger = logging.getLogger(__name__)

__all__ = [
    "PERSONAS",
    "Persona",
    "SimulatorProvider",
    "Transport",
    "account_sid",
    "auth_token",
    "call_state",
    "example_number",
    "http_transport",
    "persona_for",
    "play_call",
    "play_caller_id_validation",
    "sent_messages",
    "sign",
]


class SimulatorProvider(Provider):
    name = "simulator"

    def place_call(self, request: CallRequest) -> str:
        check_call_request(request)
        sid = files.new_sid("CA")
        files.write_json(
            files.location("calls", f"{sid}.json"),
            {
                "sid": sid,
                "to": request.to,
                "from": request.caller_id,
                "persona": persona_for(request.to),
                "instructions": request.instructions,
                "callbacks": dataclasses.asdict(request.callbacks),
                "ring_timeout": request.ring_timeout_seconds,
                "machine_detection": request.machine_detection,
                "placed_at": timezone.now().isoformat(),
                "played": False,
                "line": "queued",
                "commands": {"version": 0, "instructions": "", "hang_up": False},
                "recording": None,
            },
        )
        if settings.TELEPHONY_SIMULATOR_AUTORUN:
            from campaigns.tasks import simulate_call

            simulate_call.apply_async(args=[sid], queue="simulator")
        return sid

    def update_call(self, call_sid: str, instructions: str) -> None:
        check_instructions(instructions)
        with files.locked_call(call_sid) as state:
            _require_in_progress(state, "new instructions")
            commands = state["commands"]
            commands.update(version=commands["version"] + 1, instructions=instructions)

    def hang_up(self, call_sid: str) -> None:
        with files.locked_call(call_sid) as state:
            state["commands"]["hang_up"] = True

    def start_recording(self, call_sid: str, *, status_callback: str) -> str:
        with files.locked_call(call_sid) as state:
            _require_in_progress(state, "a recording")
            # One recording per call: asking again (a retried webhook) gets the same one.
            if not state["recording"]:
                state["recording"] = {"sid": files.new_sid("RE"), "status_callback": status_callback}
            return state["recording"]["sid"]

    def verify_webhook(self, *, url: str, params: dict, signature: str) -> bool:
        return bool(signature) and RequestValidator(auth_token()).validate(url, params, signature)

    def parse_event(self, kind: str, params: dict) -> CallEvent:
        return parsing.parse_event(kind, params)

    def fetch_recording(self, recording_sid: str) -> FetchedRecording:
        path = files.recording_path(recording_sid)
        try:
            return FetchedRecording(content=path.read_bytes(), content_type="audio/wav")
        except FileNotFoundError:
            raise ProviderError(f"The simulator has no recording {recording_sid}.", permanent=True) from None

    def delete_recording(self, recording_sid: str) -> None:
        files.recording_path(recording_sid).unlink(missing_ok=True)

    def recording_exists(self, recording_sid: str) -> bool:
        return files.recording_path(recording_sid).exists()

    def validate_caller_id(self, number: str, *, friendly_name: str, status_callback: str) -> CallerIdValidation:
        reference = files.new_sid("CA")
        code = f"{secrets.randbelow(10**6):06d}"
        files.write_json(
            files.location("validations", f"{reference}.json"),
            {"number": number, "friendly_name": friendly_name, "status_callback": status_callback, "code": code},
        )
        if settings.TELEPHONY_SIMULATOR_AUTORUN:
            from campaigns.tasks import simulate_caller_id_validation

            simulate_caller_id_validation.apply_async(args=[reference], queue="simulator")
        return CallerIdValidation(code=code, reference=reference)

    def send_sms(self, to: str, body: str) -> str:
        check_sms(to, body)
        sid = files.new_sid("SM")
        files.write_json(
            files.location("messages", f"{sid}.json"), {"sid": sid, "to": to, "body": body, "sent_at": timezone.now().isoformat()}
        )
        # On a developer machine the log is the phone's screen: whoever tries the rights form reads the code here.
        logger.info("Simulated text message %s to %s: %s", sid, mask_phone(to), body)
        return sid


def sent_messages(to: str | None = None) -> list[dict]:
    """The text messages the simulator has sent (to `to` only, when given), oldest first."""
    folder = files.location("messages", "x").parent
    messages = [files.read_json(path) for path in folder.glob("SM*.json")]
    return sorted((m for m in messages if m and (to is None or m["to"] == to)), key=lambda m: m["sent_at"])


def play_call(sid: str, *, transport: Transport | None = None) -> None:
    """Play call `sid` from its first ring to its end, talking to the platform through `transport`.

    Safe to run twice (a redelivered task): a call is played once.
    """
    call = files.claim(sid)
    if call is not None:
        SimulatedCall(call, transport or http_transport).play()


def play_caller_id_validation(reference: str, *, transport: Transport | None = None) -> None:
    """The validation call of `reference` is answered and the code keyed in (or not), a few seconds later."""
    validation = files.claim_validation(reference)
    if validation is None:
        return
    _pause(4)
    # Only someone who picks up and listens can key the code in.
    keyed_in = persona_for(validation["number"]) not in (Persona.BUSY, Persona.NO_ANSWER, Persona.VOICEMAIL, Persona.SILENCE)
    params = {
        "AccountSid": account_sid(),
        "CallSid": reference,
        "To": validation["number"],
        "VerificationStatus": "success" if keyed_in else "failed",
    }
    if keyed_in:
        params["OutgoingCallerIdSid"] = "PN" + uuid.uuid4().hex
    send(transport or http_transport, validation["status_callback"], params)


def _require_in_progress(state: dict, what: str) -> None:
    # Twilio answers 21220 ("Call is not in-progress") to the same requests.
    if state["line"] != "in-progress":
        raise ProviderError(f"Call {state['sid']} is {state['line']}, not in progress: it cannot take {what}.", permanent=True)


def _pause(seconds: float) -> None:
    if settings.TELEPHONY_SIMULATOR_PACE:
        time.sleep(seconds * settings.TELEPHONY_SIMULATOR_PACE)
