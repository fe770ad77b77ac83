"""Call instructions as TwiML, built with the Twilio SDK; both providers run them (the simulator speaks Twilio).

The platform decides what is said (campaigns.script, the conversation engine);
this module decides only how it becomes TwiML: every line is spoken in British
English with the configured voice, every question listens for speech and one
keypad digit and always reports back (an empty result too, so silence is the
platform's to handle), and every ending is an explicit Hangup.
"""

from collections.abc import Iterable

from django.conf import settings
from twilio.twiml.voice_response import VoiceResponse

LANGUAGE = "en-GB"

# What the call does after the agent has spoken (the conversation engine's turn actions).
LISTEN = "listen"
TRANSFER = "transfer"
HANG_UP = "hang_up"

# Seconds of silence after a question before the gather reports an empty result.
GATHER_TIMEOUT_SECONDS = 5
# How long the person on hold lets the client's line ring: like every dial we make, at least 20 s.
TRANSFER_RING_SECONDS = 30


def opening_twiml(lines: Iterable[str], *, gather_action: str = "", question: Iterable[str] = (), redirect_to: str = "") -> str:
    """The first audio of a call, sent with the call itself so it plays the moment the person answers.

    The platform's `lines` are spoken whole, outside any gather, so no reply can
    cut the disclosure short (P52). Then either the first `question` is asked,
    listening for its answer at `gather_action`, or the call is handed back to
    the platform at `redirect_to` (to start recording once the notice has been
    spoken, P07).
    """
    if bool(gather_action) == bool(redirect_to):
        raise ValueError("An opening either listens for an answer (gather_action) or hands back (redirect_to): give one.")
    response = VoiceResponse()
    _say(response, lines)
    if redirect_to:
        response.redirect(redirect_to, method="POST")
    else:
        _gather(response, gather_action, question)
    return str(response)


def turn_twiml(
    say_lines: Iterable[str],
    action: str,
    *,
    gather_action: str = "",
    transfer_to: str = "",
    caller_id: str = "",
    dial_action: str = "",
) -> str:
    """One turn of the conversation: say `say_lines`, then listen, transfer to a person or hang up.

    `action` is LISTEN, TRANSFER or HANG_UP (or an enum whose value is one).
    A transfer shows the campaign's `caller_id` to the client's line (P50) and
    reports how it ended at `dial_action`.
    """
    action = getattr(action, "value", action)
    response = VoiceResponse()
    if action == LISTEN:
        _require(gather_action=gather_action)
        _gather(response, gather_action, say_lines)
    elif action == TRANSFER:
        _require(transfer_to=transfer_to, caller_id=caller_id, dial_action=dial_action)
        _say(response, say_lines)
        response.dial(
            transfer_to,
            caller_id=caller_id,
            timeout=TRANSFER_RING_SECONDS,
            action=dial_action,
            method="POST",
            answer_on_bridge=True,
        )
    elif action == HANG_UP:
        _say(response, say_lines)
        response.hangup()
    else:
        raise ValueError(f"Unknown turn action {action!r}: expected {LISTEN!r}, {TRANSFER!r} or {HANG_UP!r}.")
    return str(response)


def message_then_hangup(lines: Iterable[str]) -> str:
    """Say `lines` and end the call: a voicemail, an abandoned call's information message, a goodbye."""
    response = VoiceResponse()
    _say(response, lines)
    response.hangup()
    return str(response)


def gather_for_callback(lines: Iterable[str], action: str) -> str:
    """What someone calling the caller ID back hears: `lines`, listening at `action` for 9 or "stop"."""
    response = VoiceResponse()
    _gather(response, action, lines)
    return str(response)


def _say(verb, lines: Iterable[str]) -> None:
    for line in lines:
        # Twilio refuses an empty <Say>; an empty line has nothing to say anyway.
        if line and line.strip():
            verb.say(line, voice=settings.TELEPHONY_VOICE, language=LANGUAGE)


def _gather(response: VoiceResponse, action: str, prompt: Iterable[str]) -> None:
    # The prompt is inside the gather, so an answer given while it is being read still counts.
    gather = response.gather(
        input="speech dtmf",
        language=LANGUAGE,
        action=action,
        method="POST",
        speech_timeout="auto",
        timeout=GATHER_TIMEOUT_SECONDS,
        num_digits=1,
        action_on_empty_result=True,
    )
    _say(gather, prompt)


def _require(**values: str) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ValueError(f"This turn needs {', '.join(missing)}.")
