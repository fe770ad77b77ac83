"""The small interface every telephony provider implements, and what it reports back.

The platform talks to a provider only through `Provider`: place a call with its
opening instructions, change what a live call does (a voicemail message, a
transfer), hang up, start recording, verify and parse the provider's webhooks,
fetch and delete recordings, validate a caller ID, send a text message (the
one-time codes of data-subject requests). Two implementations:
`twilio.TwilioProvider` (the real network, through the official SDK) and
`simulator.SimulatorProvider` (simulated people answering, sending the same
Twilio-shaped, signed webhooks to the same views).

Instructions are TwiML (built in `twiml.py` from the conversation engine's
turns), because both providers speak it.
"""

import abc
import datetime
from dataclasses import dataclass, field

# Ofcom: an unanswered call rings at least 15 s; providers may cut a few seconds off the timeout asked for.
MIN_RING_SECONDS = 20
# Twilio refuses longer inline instructions; the simulator keeps to the same limit so the demo finds it first.
MAX_INSTRUCTIONS_CHARS = 4000


class ProviderError(Exception):
    """The provider refused or failed a request. `permanent` errors are not worth retrying
    (a number it will not call, bad credentials); others are (a timeout, a 5xx).
    `code` is the provider's own error code when it gave one (Twilio's 21211...), for the call's failure reason."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class CallbackUrls:
    """Absolute URLs of the platform's webhooks for one call (campaigns.webhooks)."""

    status: str  # initiated, ringing, answered, completed
    machine_detection: str  # the asynchronous answering-machine result
    turn: str  # speech or keypad input gathered, or the opening finished
    fallback: str  # the provider could not fetch or run our instructions
    recording: str  # recording status
    dial: str  # the human transfer ended


@dataclass(frozen=True)
class CallRequest:
    call_id: int
    to: str  # E.164
    caller_id: str  # E.164, a number the client proved it controls; never withheld
    # The opening, sent with the call itself so that the first audio plays the
    # moment the person answers (Ofcom: within 2 s), never fetched after answer.
    instructions: str
    callbacks: CallbackUrls
    # Ofcom: an unanswered call rings at least 15 s; we let it ring this long.
    ring_timeout_seconds: int
    machine_detection: bool = True


def check_call_request(request: CallRequest) -> None:
    """Refuse, before anything is dialled, a call that would break a rule whatever the provider."""
    if request.ring_timeout_seconds < MIN_RING_SECONDS:
        raise ProviderError(
            f"A call must ring at least {MIN_RING_SECONDS} s (Ofcom: 15 s before it is given up); "
            f"{request.ring_timeout_seconds} s was asked for.",
            permanent=True,
        )
    if not request.caller_id:
        raise ProviderError("A call must show its caller ID (P50): none was given.", permanent=True)
    check_instructions(request.instructions)


def check_instructions(instructions: str) -> None:
    if not instructions.strip():
        raise ProviderError("A call needs instructions: nothing would be said.", permanent=True)
    if len(instructions) > MAX_INSTRUCTIONS_CHARS:
        raise ProviderError(
            f"Instructions are at most {MAX_INSTRUCTIONS_CHARS} characters; these have {len(instructions)}.",
            permanent=True,
        )


@dataclass(frozen=True)
class CallEvent:
    """One webhook from the provider, in the platform's words.

    `kind` says which webhook it was: "status", "machine_detection", "turn",
    "fallback", "recording", "dial", "inbound" or "caller_id".
    """

    kind: str
    call_sid: str
    # campaigns.models.Call.Status value, when the provider reported one
    status: str | None = None
    occurred_at: datetime.datetime | None = None
    sequence: int | None = None
    duration_seconds: int | None = None
    answered_by: str | None = None  # human, machine_start, machine_end_beep, ..., fax, unknown
    machine_detection_ms: int | None = None  # how long the answering-machine detection listened
    speech: str = ""
    digits: str = ""
    confidence: float | None = None
    recording_sid: str = ""
    recording_status: str = ""  # completed, failed, absent
    recording_duration: int | None = None
    dial_status: str = ""  # completed, busy, no-answer, failed, canceled
    from_number: str = ""
    to_number: str = ""
    verification_status: str = ""  # caller-ID validation: success / failed
    outgoing_caller_id_sid: str = ""  # the provider's id of a caller ID once validated
    error_code: str = ""
    error_url: str = ""  # fallback: the webhook the provider could not fetch or run
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CallerIdValidation:
    """A started caller-ID validation: the provider rings the number and someone keys in `code`."""

    code: str
    reference: str


@dataclass(frozen=True)
class FetchedRecording:
    content: bytes
    content_type: str  # audio/wav, audio/mpeg


MAX_SMS_CHARS = 320  # two segments: a code and one sentence, never a letter


def check_sms(to: str, body: str) -> None:
    if not to.startswith("+"):
        raise ProviderError(f"A text message goes to an E.164 number (+44...), not {to!r}.", permanent=True)
    if not body.strip() or len(body) > MAX_SMS_CHARS:
        raise ProviderError(f"A text message has 1 to {MAX_SMS_CHARS} characters; this one has {len(body)}.", permanent=True)


class Provider(abc.ABC):
    """What the platform needs of a telephony provider. Every method may raise ProviderError."""

    name: str = ""

    @abc.abstractmethod
    def place_call(self, request: CallRequest) -> str:
        """Dial `request.to`; returns the provider's call id (e.g. Twilio's CallSid)."""

    @abc.abstractmethod
    def update_call(self, call_sid: str, instructions: str) -> None:
        """Replace what a live call is doing with `instructions` (TwiML)."""

    @abc.abstractmethod
    def hang_up(self, call_sid: str) -> None:
        """End a live call (or cancel one still ringing)."""

    @abc.abstractmethod
    def start_recording(self, call_sid: str, *, status_callback: str) -> str:
        """Start recording a live call (after its notice was spoken, P07); returns the recording id."""

    @abc.abstractmethod
    def verify_webhook(self, *, url: str, params: dict, signature: str) -> bool:
        """Is this webhook really from the provider? `url` is the public URL it was sent to."""

    @abc.abstractmethod
    def parse_event(self, kind: str, params: dict) -> CallEvent:
        """The webhook's form parameters as a CallEvent; `kind` is the webhook it arrived at."""

    @abc.abstractmethod
    def fetch_recording(self, recording_sid: str) -> FetchedRecording:
        """The recording's audio, from the provider's storage."""

    @abc.abstractmethod
    def delete_recording(self, recording_sid: str) -> None:
        """Delete the provider's copy, once ours is stored."""

    @abc.abstractmethod
    def recording_exists(self, recording_sid: str) -> bool:
        """Checked after delete_recording: the provider's copy must really be gone."""

    @abc.abstractmethod
    def validate_caller_id(self, number: str, *, friendly_name: str, status_callback: str) -> CallerIdValidation:
        """Start proving the client controls `number`; the result arrives at `status_callback`."""

    @abc.abstractmethod
    def send_sms(self, to: str, body: str) -> str:
        """Send a text message from the platform's own number (TELEPHONY_SMS_FROM); returns the message id."""
