"""Who answers a simulated call, and what they say: chosen by the dialled number's last two digits."""

import re
from enum import StrEnum


class Persona(StrEnum):
    COOPERATIVE = "cooperative"  # answers each question: the first option it names, else "yes"
    KEYPAD = "keypad"  # the same, pressing the first digit the question offers
    VOICEMAIL = "voicemail"  # answering machine: AMD says machine_start, it stays silent
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # rings for the whole ring timeout
    STOP = "stop"  # says "Stop calling me."
    PERSON_ANSWERED = "person_answered"  # asks for a person; the transfer is answered and talks 20 s
    PERSON_UNANSWERED = "person_unanswered"  # asks for a person; nobody answers the transfer
    HANGS_UP = "hangs_up"  # answers the first question, hangs up while the agent replies
    SILENCE = "silence"  # answers the phone, then says nothing (every gather is empty)
    FAULT = "fault"  # the network cannot reach the platform's TwiML webhooks: Twilio's fallback URL is used


# The dialled number's last two digits -> who answers. Demo data and tests pick
# numbers from it (example_number); ranges give a realistic mix to random numbers.
PERSONAS = (
    (0, 39, Persona.COOPERATIVE),
    (40, 49, Persona.VOICEMAIL),
    (50, 54, Persona.BUSY),
    (55, 59, Persona.NO_ANSWER),
    (60, 64, Persona.STOP),
    (65, 69, Persona.PERSON_ANSWERED),
    (70, 74, Persona.PERSON_UNANSWERED),
    (75, 79, Persona.HANGS_UP),
    (80, 84, Persona.SILENCE),
    (85, 89, Persona.FAULT),
    (90, 99, Persona.KEYPAD),
)


def persona_for(number: str) -> Persona:
    digits = "".join(ch for ch in number if ch.isdigit())
    last_two = int(digits[-2:] or "0")
    return next(persona for first, last, persona in PERSONAS if first <= last_two <= last)


def example_number(persona: Persona, index: int = 0) -> str:
    """A valid UK mobile number that `persona` answers; `index` 0-999 gives others.

    Not Ofcom's drama range (07700 900xxx): the phone-number library the import
    uses rightly refuses it as unallocated, so demo lists could not hold it.
    """
    first = next(first for first, _, each in PERSONAS if each == persona)
    return f"+4479111{index % 1000:03d}{first:02d}"


SAY_OPTION = re.compile(r"\bsay\s+['\"]?([a-z]+)", re.IGNORECASE)
PRESS_OPTION = re.compile(r"\bpress\s+(\d)\b", re.IGNORECASE)
# The platform's own options (a person, stop calling) are never a cooperative answer.
RESERVED_WORDS = frozenset({"stop", "person"})
RESERVED_DIGITS = frozenset({"0", "9"})


def answer_for(question: str) -> str:
    options = (match.group(1).lower() for match in SAY_OPTION.finditer(question))
    return next((word for word in options if word not in RESERVED_WORDS), "yes")


def digit_for(question: str) -> str:
    digits = (match.group(1) for match in PRESS_OPTION.finditer(question))
    return next((digit for digit in digits if digit not in RESERVED_DIGITS), "")


def seconds_to_say(text: str) -> float:
    # About 150 words a minute, and a breath.
    return 0.3 + 0.4 * len(text.split())


# Someone at the client answers a transfer and they talk a while.
TRANSFER_CONVERSATION = [
    ("staff", "Hello, you're through to the team. How can I help?"),
    ("person", "Hi, I had a question about my account."),
    ("staff", "Of course, let me have a look at that for you now."),
    ("person", "Thank you, that's very kind."),
    ("staff", "All sorted. Is there anything else I can help with today?"),
    ("person", "No, that's everything. Goodbye."),
]
