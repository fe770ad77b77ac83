"""One simulated call, played from its first ring to its last word: the person, the clock, the TwiML.

The call advances on a simulated clock by each step's realistic length, and
sleeps TELEPHONY_SIMULATOR_PACE times as long. After each step it reads the
call's file for what the platform asked meanwhile (update_call, hang_up,
start_recording): Twilio applies those at once, the simulator between steps.
"""

import datetime
import email.utils
import logging
import math
import time
from dataclasses import dataclass
from xml.etree import ElementTree

from django.conf import settings
from django.utils import timezone

from . import audio, files, network
from .people import TRANSFER_CONVERSATION, Persona, answer_for, digit_for, seconds_to_say

logger = logging.getLogger(__name__)

# How often a long wait (ringing, a transfer) looks for the platform's commands, in real seconds.
POLL_SECONDS = 0.25
# Between accepting a call and dialling it.
DIALLING_SECONDS = 1
# A recording shorter than this has nothing in it: Twilio reports it "absent".
MIN_RECORDING_SECONDS = 0.5
# A simulated person gives up on a call that goes nowhere: after this many questions, or this long.
MAX_GATHERS = 25
MAX_CALL_SECONDS = 15 * 60
# A voicemail box records this long, then hangs up.
VOICEMAIL_SECONDS = 60
# What Twilio says when neither the platform's webhook nor its fallback answered usable TwiML.
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
# Twilio's error codes in a fallback request: the webhook failed (HTTP), or its answer was not TwiML.
HTTP_RETRIEVAL_FAILURE = "11200"
DOCUMENT_PARSE_FAILURE = "12100"


@dataclass(frozen=True)
class _Reply:
    speech: str = ""
    digits: str = ""
    hangs_up: bool = False


class _Ended(Exception):
    """The line went dead: someone hung up, or the platform asked for it."""


class SimulatedCall:
    """One call being played: the simulated person, the clock, what was said, and the TwiML being run."""

    def __init__(self, call: dict, transport: network.Transport):
        self.call = call
        self.sid = call["sid"]
        self.persona = Persona(call["persona"])
        self.callbacks = call["callbacks"]
        self.transport = transport
        self.started = timezone.now()
        self.clock = 0.0  # simulated seconds since the call was placed
        self.answered_at: float | None = None
        self.line_status = "queued"
        self.sequence = 0
        self.segments: list[dict] = []  # who spoke when: the transcript and the recording's audio
        self.commands_seen = 0
        self.recording: dict | None = None
        self.machine_detection_sent = not call["machine_detection"]
        self.gathers = 0
        self.answers = 0
        self.transfers: list[dict] = []

    # The call from first ring to last word.

    def play(self) -> None:
        try:
            final = self._ring() or self._converse()
        except Exception:
            # A fault of the simulator still ends the call for the platform, as the network would.
            logger.exception("Simulated call %s broke down.", self.sid)
            self._end("failed" if self.answered_at is None else "completed")
            raise
        self._end(final)

    def _converse(self) -> str:
        try:
            self._answer()
            self._run(self._document_from_text(self.call["instructions"]) or [])
        except _Ended:
            pass
        return "completed"

    def _ring(self) -> str | None:
        """Ring until answered (None) or not: busy, no-answer, or canceled by the platform."""
        # Twilio takes a moment between accepting a call and dialling it.
        self._wait(DIALLING_SECONDS)
        self._status("initiated")
        if self.persona is Persona.BUSY:
            self._wait(1)
            return "busy"
        self._set_line("ringing")
        self._status("ringing")
        ring_seconds = self.call["ring_timeout"] if self.persona is Persona.NO_ANSWER else 2 + int(self.sid[-2:], 16) % 5
        if self._wait(ring_seconds, interruptible=True):
            return "canceled"
        return "no-answer" if self.persona is Persona.NO_ANSWER else None

    def _answer(self) -> None:
        self.answered_at = self.clock
        self._set_line("in-progress")
        self._status("in-progress")
        if self.persona is Persona.VOICEMAIL:
            self._speaks("person", "Hello, you've reached my voicemail. Please leave a message after the tone.", overlap=True)
        else:
            self._speaks("person", "Hello?", overlap=True)

    def _end(self, final: str) -> None:
        ended_at = self.clock
        # A recording asked for during the last step starts (and ends) now.
        self._notice_recording(files.call_state(self.sid) or {})
        self._set_line("ended", final=final, transcript=self.segments, transfers=self.transfers, duration=self._call_duration())
        extra = {"CallDuration": str(self._call_duration())} if final == "completed" else {}
        self._status(final, **extra)
        if self.recording:
            self._finish_recording(ended_at)

    # Running TwiML.

    def _run(self, document: list) -> None:
        while document is not None:
            document = self._run_document(document)

    def _run_document(self, verbs: list) -> list | None:
        """Run `verbs` in order; the next document when one replaces them, None when the call is over."""
        for verb in verbs:
            replacement = self._execute(verb)
            self._after_step()
            commanded = self._commands()
            if commanded is not None:
                return commanded
            if replacement is not None:
                return replacement
        # Like Twilio, the end of the instructions ends the call.
        return None

    def _execute(self, verb) -> list | None:
        handler = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause_verb,
            "Gather": self._gather,
            "Redirect": self._redirect,
            "Dial": self._dial,
            "Hangup": self._hangup,
        }.get(verb.tag)
        if handler is None:
            logger.warning("Simulated call %s: <%s> is not TwiML the simulator knows.", self.sid, verb.tag)
            return self._fallback({}, DOCUMENT_PARSE_FAILURE, failed_url="")
        return handler(verb)

    def _say(self, verb) -> None:
        text = " ".join((verb.text or "").split())
        if not text:
            return
        if self._person_leaves():
            # They hang up while the agent is half-way through.
            self._speaks("agent", text, fraction=0.5)
            raise _Ended
        self._speaks("agent", text)

    def _play(self, verb) -> None:
        # The audio itself is not fetched: it is heard as three seconds of the agent's channel.
        self._speaks("agent", f"[audio {verb.text or ''}]".strip(), seconds=3.0)

    def _pause_verb(self, verb) -> None:
        self._wait(_number(verb.get("length"), default=1))

    def _gather(self, verb) -> list | None:
        prompt = []
        for child in verb:
            if child.tag == "Say":
                self._say(child)
                prompt.append(child.text or "")
            elif child.tag in ("Play", "Pause"):
                self._execute(child)
        question = " ".join(prompt) or self._last_agent_line()
        self.gathers += 1
        reply = self._reply(question)
        if reply.hangs_up:
            raise _Ended
        params = self._speak_reply(reply, timeout=_number(verb.get("timeout"), default=5))
        if not params and verb.get("actionOnEmptyResult") != "true":
            return None  # Twilio moves on to the next verb
        return self._fetch_twiml(verb.get("action") or "", params)

    def _redirect(self, verb) -> list:
        return self._fetch_twiml((verb.text or "").strip(), {})

    def _dial(self, verb) -> list | None:
        number = (verb.text or "").strip() or next((child.text or "" for child in verb if child.tag == "Number"), "")
        timeout = _number(verb.get("timeout"), default=30)
        # What the network did, for whoever reviews the simulated call: not a webhook parameter.
        self.transfers.append({"to": number.strip(), "caller_id": verb.get("callerId", ""), "at": self.clock})
        params = {"DialCallSid": files.new_sid("CA")}
        if self.persona is Persona.PERSON_UNANSWERED:
            if self._wait(timeout, interruptible=True):
                raise _Ended
            params.update(DialCallStatus="no-answer", DialCallDuration="0", DialBridged="false")
        else:
            if self._wait(4, interruptible=True):
                raise _Ended
            talk_started = self.clock
            for speaker, line in TRANSFER_CONVERSATION:
                self._speaks(speaker, line)
            params.update(
                DialCallStatus="completed", DialCallDuration=str(math.ceil(self.clock - talk_started)), DialBridged="true"
            )
        action = verb.get("action")
        return self._fetch_twiml(action, params) if action else None

    def _hangup(self, verb) -> list:
        raise _Ended

    # The simulated person.

    def _reply(self, question: str) -> _Reply:
        if self.gathers > MAX_GATHERS or self._person_leaves():
            return _Reply(hangs_up=True)
        match self.persona:
            case Persona.SILENCE | Persona.VOICEMAIL:
                return _Reply()
            case Persona.STOP:
                return _Reply(speech="Stop calling me.")
            case Persona.PERSON_ANSWERED | Persona.PERSON_UNANSWERED:
                return _Reply(speech="Can I speak to a person, please?")
            case Persona.KEYPAD if digit_for(question):
                return _Reply(digits=digit_for(question))
        return _Reply(speech=answer_for(question))

    def _person_leaves(self) -> bool:
        if self.answered_at is not None and self.clock - self.answered_at > MAX_CALL_SECONDS:
            return True
        if self.persona is Persona.HANGS_UP:
            return self.answers >= 1
        if self.persona is Persona.VOICEMAIL:
            return self.clock - (self.answered_at or 0) > VOICEMAIL_SECONDS
        return False

    def _speak_reply(self, reply: _Reply, *, timeout: float) -> dict:
        """The gather's result as Twilio reports it; empty when the person said and pressed nothing."""
        if reply.digits:
            self._speaks("person", f"[presses {reply.digits}]", seconds=0.5)
            self.answers += 1
            return {"Digits": reply.digits}
        if reply.speech:
            self._speaks("person", reply.speech)
            self.answers += 1
            return {"SpeechResult": reply.speech, "Confidence": "0.92"}
        self._wait(timeout)
        return {}

    # Talking to the platform.

    def _fetch_twiml(self, url: str, params: dict) -> list:
        """The TwiML at `url`; when it cannot be had, Twilio's fallback, then its error message."""
        if not url:
            return self._fallback(params, DOCUMENT_PARSE_FAILURE, failed_url="")
        if self.persona is Persona.FAULT:
            logger.info("Simulated call %s: the network cannot reach %s.", self.sid, url)
            return self._fallback(params, HTTP_RETRIEVAL_FAILURE, failed_url=url)
        status, body = self._post(url, params)
        document, error = _document(status, body)
        return document if error is None else self._fallback(params, error, failed_url=url)

    def _fallback(self, params: dict, error_code: str, *, failed_url: str) -> list:
        fallback = self.callbacks.get("fallback") or ""
        if fallback and fallback != failed_url:
            status, body = self._post(fallback, {**params, "ErrorCode": error_code, "ErrorUrl": failed_url})
            document, error = _document(status, body)
            if error is None:
                return document
        self._speaks("agent", APPLICATION_ERROR)
        return []

    def _post(self, url: str, params: dict) -> tuple[int | None, str]:
        return network.send(self.transport, url, {**self._call_params(), **params})

    def _call_params(self) -> dict:
        return {
            "AccountSid": network.account_sid(),
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": self.line_status,
            "Direction": "outbound-api",
            "From": self.call["from"],
            "To": self.call["to"],
        }

    def _status(self, call_status: str, **extra: str) -> None:
        self.line_status = call_status
        params = {"CallbackSource": "call-progress-events", "SequenceNumber": str(self.sequence), "Timestamp": self._timestamp()}
        self.sequence += 1
        self._post(self.callbacks["status"], {**params, **extra})

    def _after_step(self) -> None:
        # Asynchronous answering-machine detection reports while the opening plays, after its first step.
        if not self.machine_detection_sent and self.answered_at is not None:
            self.machine_detection_sent = True
            answered_by = "machine_start" if self.persona is Persona.VOICEMAIL else "human"
            detection_ms = max(1200, int((self.clock - self.answered_at) * 1000))
            self._post(
                self.callbacks["machine_detection"], {"AnsweredBy": answered_by, "MachineDetectionDuration": str(detection_ms)}
            )

    def _commands(self) -> list | None:
        """What the platform asked for since the last step: hang up (raises _Ended), or new instructions."""
        state = files.call_state(self.sid) or {}
        commands = state.get("commands", {})
        if commands.get("hang_up"):
            raise _Ended
        self._notice_recording(state)
        if commands.get("version", 0) > self.commands_seen:
            self.commands_seen = commands["version"]
            return self._document_from_text(commands["instructions"]) or []
        return None

    def _notice_recording(self, state: dict) -> None:
        if state.get("recording") and not self.recording:
            # Recording starts now, when the platform asked for it: nothing said before is in it (P07).
            self.recording = {**state["recording"], "started_at": self.clock}

    def _document_from_text(self, twiml: str) -> list | None:
        document, error = _document(200, twiml)
        return document if error is None else self._fallback({}, error, failed_url="")

    # The line, the clock and the recording.

    def _speaks(self, speaker: str, text: str, *, seconds: float | None = None, fraction: float = 1.0, overlap: bool = False):
        length = (seconds if seconds is not None else seconds_to_say(text)) * fraction
        self.segments.append(
            {"speaker": speaker, "text": text, "start": round(self.clock, 3), "end": round(self.clock + length, 3)}
        )
        # A greeting said as the agent starts speaking overlaps it: the clock does not wait for it.
        if not overlap:
            self._wait(length)

    def _last_agent_line(self) -> str:
        return next((segment["text"] for segment in reversed(self.segments) if segment["speaker"] == "agent"), "")

    def _wait(self, seconds: float, *, interruptible: bool = False) -> bool:
        """Let `seconds` of the call pass; True if the platform hung up meanwhile (looked for when `interruptible`)."""
        pace = settings.TELEPHONY_SIMULATOR_PACE
        began = time.monotonic()
        deadline = began + seconds * pace
        while True:
            if interruptible and (files.call_state(self.sid) or {}).get("commands", {}).get("hang_up"):
                self.clock += (time.monotonic() - began) / pace if pace else 0
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(POLL_SECONDS, remaining) if interruptible else remaining)
        self.clock += seconds
        return False

    def _timestamp(self) -> str:
        return email.utils.format_datetime(self.started + datetime.timedelta(seconds=self.clock))

    def _call_duration(self) -> int:
        return 0 if self.answered_at is None else math.ceil(self.clock - self.answered_at)

    def _set_line(self, line: str, **extra) -> None:
        with files.locked_call(self.sid) as state:
            state.update(line=line, **extra)

    def _finish_recording(self, ended_at: float) -> None:
        """Store the recording's audio and report it, as Twilio does once the call has ended."""
        sid, started_at = self.recording["sid"], self.recording["started_at"]
        params = {
            "RecordingSid": sid,
            "RecordingChannels": "2",
            "RecordingSource": "StartCallRecordingAPI",
            "RecordingStartTime": email.utils.format_datetime(self.started + datetime.timedelta(seconds=started_at)),
        }
        if ended_at - started_at < MIN_RECORDING_SECONDS:
            # Twilio keeps no recording with no audio in it, and says so.
            params.update(RecordingStatus="absent", RecordingDuration="0")
        else:
            files.write_bytes(files.recording_path(sid), audio.call_wav(self.segments, start=started_at, end=ended_at))
            params.update(
                RecordingStatus="completed",
                RecordingDuration=str(math.ceil(ended_at - started_at)),
                RecordingUrl=f"https://simulator.invalid/Recordings/{sid}",
                ErrorCode="0",
            )
        self._post(self.recording["status_callback"], params)


def _document(status: int | None, body: str) -> tuple[list | None, str | None]:
    """The verbs of a TwiML answer, or the Twilio error code saying why there are none."""
    if status is None or not 200 <= status < 300:
        return None, HTTP_RETRIEVAL_FAILURE
    try:
        # The TwiML comes from the platform's own webhooks, the URLs it gave us.
        root = ElementTree.fromstring(body.strip())  # noqa: S314
    except ElementTree.ParseError:
        return None, DOCUMENT_PARSE_FAILURE
    if root.tag != "Response":
        return None, DOCUMENT_PARSE_FAILURE
    return list(root), None


def _number(value, *, default: float) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default
