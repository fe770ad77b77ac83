"""Twilio-shaped webhook parameters as CallEvents, for both providers (the simulator sends the same shape).

Nothing here raises on what the provider sends, whatever it is: an unknown or
malformed value becomes None (or ""), so the event is one the platform can
refuse and log. Only a webhook that names no call at all is a ValueError.
"""

import datetime
import email.utils
from collections.abc import Mapping

from campaigns.models import Call

from .base import CallEvent

KINDS = ("status", "machine_detection", "turn", "fallback", "recording", "dial", "inbound", "caller_id")

# Twilio's CallStatus in the platform's words. "initiated" is Twilio's "dialling has begun": still queued for us.
CALL_STATUSES = {
    "queued": Call.Status.QUEUED,
    "initiated": Call.Status.QUEUED,
    "ringing": Call.Status.RINGING,
    "in-progress": Call.Status.IN_PROGRESS,
    "completed": Call.Status.COMPLETED,
    "busy": Call.Status.BUSY,
    "no-answer": Call.Status.NO_ANSWER,
    "failed": Call.Status.FAILED,
    "canceled": Call.Status.CANCELLED,
}
ANSWERED_BY = frozenset(
    {"human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"}
)
RECORDING_STATUSES = frozenset({"in-progress", "completed", "absent", "failed"})
DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
VERIFICATION_STATUSES = frozenset({"success", "failed"})

# What a person can say in one turn; anything longer is not speech recognition's output.
MAX_SPEECH = 2000
_KEYPAD = frozenset("0123456789*#")


def parse_event(kind: str, params: Mapping) -> CallEvent:
    """The webhook `params` (a dict or Django's QueryDict) that arrived at the `kind` webhook, as a CallEvent."""
    if kind not in KINDS:
        raise ValueError(f"Unknown webhook kind {kind!r}: expected one of {', '.join(KINDS)}.")
    raw = {key: str(params.get(key) or "") for key in params}
    call_sid = raw.get("CallSid", "").strip()
    # A caller-ID validation is identified by the number being validated as much as by its call.
    if not call_sid and not (kind == "caller_id" and raw.get("To")):
        raise ValueError(f"A {kind} webhook without a CallSid: it cannot belong to any call.")
    return CallEvent(kind=kind, call_sid=call_sid, raw=raw, **_common(raw), **_PARSERS[kind](raw))


def _common(raw: dict) -> dict:
    """What any of Twilio's voice webhooks may carry."""
    return {
        "status": CALL_STATUSES.get(raw.get("CallStatus", "")),
        "occurred_at": _timestamp(raw.get("Timestamp", "")),
        "from_number": raw.get("From", "").strip(),
        "to_number": raw.get("To", "").strip(),
        "error_code": raw.get("ErrorCode", "").strip()[:10],
    }


def _status(raw: dict) -> dict:
    return {"sequence": _integer(raw.get("SequenceNumber")), "duration_seconds": _integer(raw.get("CallDuration"))}


def _machine_detection(raw: dict) -> dict:
    answered_by = raw.get("AnsweredBy", "")
    return {
        "answered_by": answered_by if answered_by in ANSWERED_BY else None,
        "machine_detection_ms": _integer(raw.get("MachineDetectionDuration")),
    }


def _turn(raw: dict) -> dict:
    digits = raw.get("Digits", "").strip()
    return {
        "speech": " ".join(raw.get("SpeechResult", "").split())[:MAX_SPEECH],
        "digits": digits if digits and set(digits) <= _KEYPAD else "",
        "confidence": _confidence(raw.get("Confidence")),
    }


def _fallback(raw: dict) -> dict:
    # Twilio sends the request that failed with its usual parameters, so a gather's input may be here too.
    return {**_turn(raw), "error_url": raw.get("ErrorUrl", "").strip()}


def _recording(raw: dict) -> dict:
    status = raw.get("RecordingStatus", "")
    return {
        "recording_sid": raw.get("RecordingSid", "").strip(),
        "recording_status": status if status in RECORDING_STATUSES else "",
        "recording_duration": _integer(raw.get("RecordingDuration")),
    }


def _dial(raw: dict) -> dict:
    status = raw.get("DialCallStatus", "")
    return {
        "dial_status": status if status in DIAL_STATUSES else "",
        "duration_seconds": _integer(raw.get("DialCallDuration")),
    }


def _inbound(raw: dict) -> dict:
    return {}


def _caller_id(raw: dict) -> dict:
    status = raw.get("VerificationStatus", "")
    return {
        "verification_status": status if status in VERIFICATION_STATUSES else "",
        "outgoing_caller_id_sid": raw.get("OutgoingCallerIdSid", "").strip(),
    }


_PARSERS = {
    "status": _status,
    "machine_detection": _machine_detection,
    "turn": _turn,
    "fallback": _fallback,
    "recording": _recording,
    "dial": _dial,
    "inbound": _inbound,
    "caller_id": _caller_id,
}


def _timestamp(value: str) -> datetime.datetime | None:
    """Twilio's RFC 2822 time ("Tue, 02 Jun 2026 10:15:02 +0000"), aware; None when it is not one."""
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" means UTC with no claim about local time: parsedate_to_datetime leaves it naive.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _integer(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _confidence(value) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 1.0 else None
