"""Call scripts: what the client writes, what the platform adds, and exactly what is said.

A client writes a greeting, steps (a question, the answers it expects, where each
answer leads) and a closing. The platform puts its own lines around them, and no
edit can remove or reorder those (P50, P52):

    1. the AI disclosure naming the client, always first;
    2. the recording notice, when the campaign records, before anything is recorded (P07);
    3. how to reach a person and how to stop the calls (P49, P50);
    4. the client's greeting, steps and closing.

The stored form is JSON (a `ScriptVersion.content`); `parse()` checks it and
returns a `Script`, naming the exact place of each problem ("steps[2].answers[0].next").
Nothing here touches the database: the conversation engine and the portal's
preview work from the same `Script`.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

# Keypad digits the platform keeps for itself, announced in every call.
PERSON_DIGIT = "0"
STOP_DIGIT = "9"
RESERVED_DIGITS = frozenset({PERSON_DIGIT, STOP_DIGIT})

# Where an answer can lead besides another step.
CLOSING = "closing"
TRANSFER = "transfer"
# The outcome an answer can give the call instead of "completed the script".
NOT_INTERESTED = "not_interested"

MAX_STEPS = 30
MAX_ANSWERS = 8
MAX_PHRASES = 20
LIMITS = {"greeting": 400, "question": 300, "closing": 300, "label": 60, "phrase": 60, "value": 40}
_STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Control characters are never meant to be spoken, and a NUL cannot even be stored (PostgreSQL's JSON).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Client text may not contradict the disclosure: an AI may not claim to be a person (P52).
CLAIMS_TO_BE_HUMAN = re.compile(
    r"\b(i\s*(am|'m)\s+(a\s+)?(real|human|live)\s+(person|agent|being)|i\s*(am|'m)\s+(not\s+)?(a\s+)?(robot|machine|computer|an?\s+ai)"
    r"|this\s+is\s+not\s+an?\s+(automated|recorded|ai|robot)|not\s+an?\s+automated\s+call|i\s*(am|'m)\s+a\s+human)\b",
    re.IGNORECASE,
)


def disclosure(client: str) -> str:
    return f"Hello, this is an automated AI assistant calling on behalf of {client}."


RECORDING_NOTICE = "This call is recorded for quality and training purposes."


def options(client: str) -> str:
    return (
        "You can speak to a person at any time by saying 'person' or pressing 0. "
        f"To stop calls from {client}, say 'stop' or press 9."
    )


def opt_out_confirmation(client: str) -> str:
    return f"Thank you. {client} will not call this number again. Goodbye."


def transfer_notice(client: str) -> str:
    return f"Please hold while I connect you to someone at {client}."


def transfer_failed(client: str, callback: str) -> str:
    return f"I'm sorry, nobody at {client} could take the call just now. You can call {client} back on {callback}. Goodbye."


def information_message(client: str, callback: str) -> str:
    """What an abandoned call, a voicemail, or a call we cannot continue says (Ofcom): who called, and how to decline."""
    return (
        f"Hello, this is an automated call on behalf of {client}. We are sorry, we cannot continue this call now. "
        f"To stop further calls from {client}, call {callback} and press 9. Goodbye."
    )


def voicemail_message(client: str, callback: str) -> str:
    """Left on an answering machine: who called, and how to decline further calls."""
    return (
        f"Hello, this is an automated AI assistant calling on behalf of {client}. We will try you again another time. "
        f"To stop calls from {client}, call {callback} and press 9. Goodbye."
    )


def callback_greeting(client: str) -> str:
    """What someone hears who calls the caller ID back."""
    return (
        f"You were called by an automated AI assistant on behalf of {client}. "
        f"To stop {client} calling this number, press 9 or say 'stop' now."
    )


def callback_confirmation(client: str) -> str:
    return f"Thank you. {client} will not call your number again. Goodbye."


NOT_UNDERSTOOD = "Sorry, I didn't catch that."
GOODBYE = "Thank you for your time. Goodbye."


@dataclass(frozen=True)
class Answer:
    value: str
    label: str
    phrases: tuple[str, ...]
    digit: str = ""
    next: str = CLOSING
    outcome: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    question: str
    answers: tuple[Answer, ...]
    # Where the call goes when nothing the person says matches an answer (after one reprompt).
    otherwise: str = CLOSING


@dataclass(frozen=True)
class Line:
    """One line of the preview: what is said, and who put it there."""

    text: str
    source: str  # "platform" or "client"
    part: str  # disclosure, recording, options, greeting, question, answer, closing, ...


@dataclass(frozen=True)
class Script:
    client_name: str
    greeting: str
    steps: tuple[Step, ...]
    closing: str
    recording: bool = False
    callback_number: str = ""
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {step.id: step for step in self.steps})

    @property
    def first_step(self) -> Step | None:
        return self.steps[0] if self.steps else None

    def step(self, step_id: str) -> Step | None:
        return self._by_id.get(step_id)

    def platform_lines(self) -> list[str]:
        """The platform's opening lines, in their fixed order: disclosure, recording notice, options."""
        lines = [disclosure(self.client_name)]
        if self.recording:
            lines.append(RECORDING_NOTICE)
        lines.append(options(self.client_name))
        return lines

    def opening(self) -> list[str]:
        """The platform's lines, then the client's greeting: the first audio of every call."""
        return self.platform_lines() + ([self.greeting] if self.greeting else [])

    def preview(self) -> list[Line]:
        """Every line the agent can say, in order, marked with who wrote it."""
        lines = [Line(disclosure(self.client_name), "platform", "disclosure")]
        if self.recording:
            lines.append(Line(RECORDING_NOTICE, "platform", "recording"))
        lines.append(Line(options(self.client_name), "platform", "options"))
        if self.greeting:
            lines.append(Line(self.greeting, "client", "greeting"))
        for step in self.steps:
            lines.append(Line(step.question, "client", f"question:{step.id}"))
        lines.append(Line(self.closing or GOODBYE, "client" if self.closing else "platform", "closing"))
        lines.append(Line(opt_out_confirmation(self.client_name), "platform", "opt_out"))
        lines.append(Line(transfer_notice(self.client_name), "platform", "transfer"))
        return lines


def _text(errors: dict, path: str, value, limit_key: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[path] = "Must be text."
        return ""
    value = " ".join(value.split())
    if _CONTROL.search(value):
        errors[path] = "Remove the control characters from this text."
    elif required and not value:
        errors[path] = "This is required."
    elif len(value) > LIMITS[limit_key]:
        errors[path] = f"Keep this to {LIMITS[limit_key]} characters (it has {len(value)})."
    elif CLAIMS_TO_BE_HUMAN.search(value):
        errors[path] = "The agent is an AI and the call says so first: the script may not claim otherwise."
    return value


def _answer(errors: dict, path: str, raw) -> Answer | None:
    if not isinstance(raw, dict):
        errors[path] = "Each answer needs a value, a label and the phrases that mean it."
        return None
    value = _text(errors, f"{path}.value", raw.get("value"), "value", required=True).lower()
    label = _text(errors, f"{path}.label", raw.get("label") or value, "label", required=True)
    phrases_raw = raw.get("phrases") or []
    if not isinstance(phrases_raw, list) or not all(isinstance(p, str) for p in phrases_raw):
        errors[f"{path}.phrases"] = "Give the phrases as a list of words or short sentences."
        phrases_raw = []
    phrases = tuple(dict.fromkeys(" ".join(p.lower().split()) for p in phrases_raw if p.strip()))
    if len(phrases) > MAX_PHRASES:
        errors[f"{path}.phrases"] = f"At most {MAX_PHRASES} phrases per answer."
    for i, phrase in enumerate(phrases):
        if _CONTROL.search(phrase):
            errors[f"{path}.phrases[{i}]"] = "Remove the control characters from this phrase."
        elif len(phrase) > LIMITS["phrase"]:
            errors[f"{path}.phrases[{i}]"] = f"Keep each phrase to {LIMITS['phrase']} characters."
    digit = str(raw.get("digit") or "").strip()
    if digit and (len(digit) != 1 or not digit.isdigit()):
        errors[f"{path}.digit"] = "A keypad answer is one digit, 1 to 8."
    elif digit in RESERVED_DIGITS:
        errors[f"{path}.digit"] = (
            f"{digit} is kept for {'a person' if digit == PERSON_DIGIT else 'stopping the calls'} on every call."
        )
    if not phrases and not digit:
        errors[f"{path}.phrases"] = "Give at least one phrase or a keypad digit that means this answer."
    outcome = str(raw.get("outcome") or "")
    if outcome not in ("", NOT_INTERESTED):
        errors[f"{path}.outcome"] = f"An answer's outcome is '{NOT_INTERESTED}' or nothing."
    return Answer(value, label, phrases, digit, str(raw.get("next") or CLOSING), outcome)


def _step(errors: dict, path: str, raw) -> Step | None:
    if not isinstance(raw, dict):
        errors[path] = "Each step needs an id, a question and its answers."
        return None
    step_id = str(raw.get("id") or "")
    if not _STEP_ID.match(step_id) or step_id in (CLOSING, TRANSFER):
        errors[f"{path}.id"] = (
            "A step id is lower-case letters, digits and _, starts with a letter (not 'closing' or 'transfer')."
        )
    question = _text(errors, f"{path}.question", raw.get("question"), "question", required=True)
    answers_raw = raw.get("answers") or []
    if not isinstance(answers_raw, list) or not answers_raw:
        errors[f"{path}.answers"] = "A question needs at least one expected answer."
        answers_raw = []
    if len(answers_raw) > MAX_ANSWERS:
        errors[f"{path}.answers"] = f"At most {MAX_ANSWERS} answers per question."
    answers = [a for i, r in enumerate(answers_raw) if (a := _answer(errors, f"{path}.answers[{i}]", r))]
    values = [a.value for a in answers]
    if len(values) != len(set(values)):
        errors[f"{path}.answers"] = "Two answers have the same value."
    digits = [a.digit for a in answers if a.digit]
    if len(digits) != len(set(digits)):
        errors[f"{path}.answers"] = "Two answers use the same keypad digit."
    return Step(step_id, question, tuple(answers), str(raw.get("otherwise") or CLOSING))


def _check_flow(errors: dict, steps: list[Step]) -> None:
    """Every `next` names a step, 'closing' or 'transfer'; steps only lead forward, so every call ends."""
    position = {step.id: i for i, step in enumerate(steps)}
    if len(position) != len(steps):
        errors["steps"] = "Two steps have the same id."
        return
    for i, step in enumerate(steps):
        targets = [(f"steps[{i}].answers[{j}].next", a.next) for j, a in enumerate(step.answers)]
        targets.append((f"steps[{i}].otherwise", step.otherwise))
        for path, target in targets:
            if target in (CLOSING, TRANSFER):
                continue
            if target not in position:
                errors[path] = f"There is no step '{target}': use a step id, '{CLOSING}' or '{TRANSFER}'."
            elif position[target] <= i:
                errors[path] = f"'{target}' comes before this step: a script only moves forward, so every call ends."


def parse(content, *, client_name: str, recording: bool = False, callback_number: str = "") -> Script:
    """The script in `content` (a ScriptVersion's JSON), checked; ValidationError names each problem's place."""
    errors: dict[str, str] = {}
    if not isinstance(content, dict):
        raise ValidationError({"script": "A script is an object with a greeting, steps and a closing."})
    greeting = _text(errors, "greeting", content.get("greeting"), "greeting", required=False)
    closing = _text(errors, "closing", content.get("closing"), "closing", required=False)
    steps_raw = content.get("steps") or []
    if not isinstance(steps_raw, list):
        errors["steps"] = "Steps are a list."
        steps_raw = []
    if len(steps_raw) > MAX_STEPS:
        errors["steps"] = f"At most {MAX_STEPS} steps."
    steps = [s for i, r in enumerate(steps_raw) if (s := _step(errors, f"steps[{i}]", r))]
    if not steps and not greeting:
        errors["steps"] = "A script needs a greeting or at least one question."
    if not errors:
        _check_flow(errors, steps)
    if errors:
        raise ValidationError(errors)
    return Script(client_name, greeting, tuple(steps), closing, recording, callback_number)


def normalised(content) -> dict:
    """The canonical JSON of a valid script (whitespace tidied, defaults filled), for storing a version."""
    script = parse(content, client_name="-")
    return {
        "greeting": script.greeting,
        "steps": [
            {
                "id": step.id,
                "question": step.question,
                "answers": [
                    {
                        "value": a.value,
                        "label": a.label,
                        "phrases": list(a.phrases),
                        "digit": a.digit,
                        "next": a.next,
                        "outcome": a.outcome,
                    }
                    for a in step.answers
                ],
                "otherwise": step.otherwise,
            }
            for step in script.steps
        ],
        "closing": script.closing,
    }


EXAMPLE = {
    "greeting": "I'm calling about the boiler service you had with us last week.",
    "steps": [
        {
            "id": "satisfied",
            "question": "Were you happy with the engineer's visit? Please say yes or no, or press 1 for yes and 2 for no.",
            "answers": [
                {
                    "value": "yes",
                    "label": "Yes",
                    "phrases": ["yes", "yeah", "yep", "happy", "it was fine"],
                    "digit": "1",
                    "next": "callback",
                },
                {
                    "value": "no",
                    "label": "No",
                    "phrases": ["no", "not really", "unhappy", "nope"],
                    "digit": "2",
                    "next": "callback",
                },
            ],
            "otherwise": "callback",
        },
        {
            "id": "callback",
            "question": "Would you like someone from our team to call you about your next service? Say yes or no.",
            "answers": [
                {"value": "yes", "label": "Yes, call me", "phrases": ["yes", "please", "sure", "ok"], "digit": "1"},
                {
                    "value": "no",
                    "label": "No thanks",
                    "phrases": ["no", "no thanks", "not interested"],
                    "digit": "2",
                    "outcome": "not_interested",
                },
            ],
        },
    ],
    "closing": "Thank you for your time, and have a good day. Goodbye.",
}
