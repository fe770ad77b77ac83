"""The conversation engine: what was heard in, what to say and do out, one turn at a time.

It knows nothing of the transport. A Twilio <Gather> webhook and a streaming
transport (ConversationRelay over a WebSocket) both call `opening()` when the
call is answered and `next_turn()` with each thing the person says or keys, keep
`Turn.state` with the call, speak `Turn.say` and do `Turn.action`. Nothing here
touches the database.

The state is JSON, with no personal data:

    {"v": 1, "step": "satisfied", "turns": 3, "reprompts": 0, "silences": 0,
     "not_interested": false, "done": false}

`Turn.reason` names the rule or step that produced a turn, for logs and
transcripts: "opening", "guardrail:opt_out", "guardrail:person",
"guardrail:asked_if_ai", "step:<id>:answer:<value>", "step:<id>:reprompt",
"step:<id>:otherwise", "step:<id>:silence", "step:<id>:silent_twice",
"turn_limit", "bad_state", "already_ended".
"""

import logging
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum

from campaigns.conversation import guardrails
from campaigns.conversation.guardrails import guard_reply
from campaigns.conversation.replies import ACKNOWLEDGEMENT_CHARS, Reply, ReplyGenerator, RuleBasedReplies
from campaigns.script import (
    CLOSING,
    GOODBYE,
    LIMITS,
    MAX_STEPS,
    NOT_INTERESTED,
    NOT_UNDERSTOOD,
    TRANSFER,
    Script,
    Step,
    opt_out_confirmation,
    transfer_notice,
)

logger = logging.getLogger(__name__)

# campaigns.models.Call.Outcome values (this module imports no models).
COMPLETED_SCRIPT = "completed_script"
OPTED_OUT = "opted_out"
TRANSFERRED = "transferred"
FAILED = "failed"

# The longest script, answered with one reprompt on every step, fits; a call that
# goes round in circles ("are you a robot?" forever) does not.
MAX_TURNS = 2 * MAX_STEPS
MAX_REPROMPTS = 1
STATE_VERSION = 1


@dataclass(frozen=True)
class Heard:
    """What the person said or keyed in one turn; nothing at all is silence (a timeout)."""

    speech: str = ""
    digits: str = ""
    # Kept for the transcript only: no rule uses it, because an opt-out is honoured
    # however unsure the recogniser was.
    confidence: float | None = None

    def __post_init__(self):
        # Webhooks leave fields out; a missing field is nothing heard, not a crash mid-call.
        object.__setattr__(self, "speech", self.speech or "")
        object.__setattr__(self, "digits", self.digits or "")

    @property
    def silent(self) -> bool:
        return not self.speech.strip() and not self.digits.strip()

    @property
    def text(self) -> str:
        return self.speech.strip() or self.digits.strip()


class Action(StrEnum):
    LISTEN = "listen"
    TRANSFER = "transfer"
    HANG_UP = "hang_up"


@dataclass(frozen=True)
class Response:
    """An answer to one of the script's questions: one per step, at the moment the call leaves it."""

    step_id: str
    question: str
    value: str  # the matched Answer.value, "" when none matched
    heard: str


@dataclass(frozen=True)
class Turn:
    say: tuple[str, ...]
    action: Action
    state: dict
    responses: tuple[Response, ...] = ()
    # A Call.Outcome value when the call ends here; "" when it goes on, or had already ended.
    outcome: str = ""
    opt_out: bool = False
    reason: str = ""


@dataclass(frozen=True)
class _Progress:
    step: str = ""
    turns: int = 0
    reprompts: int = 0
    silences: int = 0
    not_interested: bool = False
    done: bool = False

    def state(self) -> dict:
        return {"v": STATE_VERSION, **asdict(self)}

    def ended(self) -> "_Progress":
        return replace(self, done=True)

    @classmethod
    def read(cls, script: Script, state) -> "_Progress | None":
        """The progress `state` records, or None when it is not one this script can have produced."""
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            return None
        values = {key: value for key, value in state.items() if key != "v"}
        if set(values) != {f.name for f in fields(cls)}:
            return None
        progress = cls(**values)
        return progress if progress._fits(script) else None

    def _fits(self, script: Script) -> bool:
        counts_ok = all(type(n) is int and n >= 0 for n in (self.turns, self.reprompts, self.silences))
        flags_ok = type(self.not_interested) is bool and type(self.done) is bool
        step_ok = isinstance(self.step, str) and (self.done or script.step(self.step) is not None)
        return counts_ok and flags_ok and step_ok


def opening(script: Script) -> Turn:
    """What the call says the moment it is answered: the platform's lines first, then the first question."""
    lines = _opening_lines(script)
    first = script.first_step
    if first is None:
        return _hang_up(script, _Progress(), say=tuple(lines), reason="opening")
    return Turn((*lines, _question(script, first)), Action.LISTEN, _Progress(step=first.id).state(), reason="opening")


def next_turn(script: Script, state: dict, heard: Heard, *, replies: ReplyGenerator | None = None) -> Turn:
    """The turn after `heard`, from the call's `state`. Never raises on a state it cannot use."""
    # Before the state is even read: a "stop" is honoured whatever state the call is in,
    # even one that has ended (a streaming transport hears the person until it hangs up).
    if guardrails.wants_opt_out(heard.speech, heard.digits):
        return _opted_out(script, state)
    progress = _Progress.read(script, state)
    if progress is not None and progress.done:
        return Turn((), Action.HANG_UP, progress.state(), reason="already_ended")
    # A person is offered even when the state is unusable: better than hanging up on them.
    if guardrails.wants_person(heard.speech, heard.digits):
        return _transfer(script, _final(script, state), reason="guardrail:person")
    if progress is None:
        return _bad_state(state)
    return _on_step(script, replace(progress, turns=progress.turns + 1), heard, replies or RuleBasedReplies())


def _on_step(script: Script, progress: _Progress, heard: Heard, replies: ReplyGenerator) -> Turn:
    step = script.step(progress.step)
    asked_if_ai = guardrails.asks_if_ai(heard.speech)
    if progress.turns >= MAX_TURNS:
        reminder = (guardrails.ai_reminder(script.client_name),) if asked_if_ai else ()
        return _hang_up(script, progress, say=reminder, reason="turn_limit")
    if asked_if_ai:
        say = (guardrails.ai_reminder(script.client_name), _question(script, step))
        return Turn(say, Action.LISTEN, replace(progress, silences=0).state(), reason="guardrail:asked_if_ai")
    if heard.silent:
        return _silence(script, step, progress)
    return _answer(script, step, progress, heard, _reply(replies, script, step, heard))


def _silence(script: Script, step: Step, progress: _Progress) -> Turn:
    if progress.silences >= 1:
        return _hang_up(script, progress, reason=f"step:{step.id}:silent_twice")
    again = replace(progress, silences=progress.silences + 1)
    return Turn((NOT_UNDERSTOOD, _question(script, step)), Action.LISTEN, again.state(), reason=f"step:{step.id}:silence")


def _answer(script: Script, step: Step, progress: _Progress, heard: Heard, reply: Reply) -> Turn:
    if reply.answer is None:
        return _not_understood(script, step, progress, heard)
    answer = reply.answer
    progress = replace(progress, not_interested=progress.not_interested or answer.outcome == NOT_INTERESTED)
    acknowledgement = guard_reply(reply.acknowledgement, script, limit=ACKNOWLEDGEMENT_CHARS)
    return _go(
        script,
        answer.next,
        progress,
        say=(acknowledgement,) if acknowledgement else (),
        responses=(Response(step.id, step.question, answer.value, heard.text),),
        reason=f"step:{step.id}:answer:{answer.value}",
    )


def _not_understood(script: Script, step: Step, progress: _Progress, heard: Heard) -> Turn:
    if progress.reprompts < MAX_REPROMPTS:
        again = replace(progress, reprompts=progress.reprompts + 1, silences=0)
        return Turn((NOT_UNDERSTOOD, _question(script, step)), Action.LISTEN, again.state(), reason=f"step:{step.id}:reprompt")
    response = Response(step.id, step.question, "", heard.text)
    return _go(script, step.otherwise, progress, responses=(response,), reason=f"step:{step.id}:otherwise")


def _go(script: Script, target: str, progress: _Progress, *, say=(), responses=(), reason: str) -> Turn:
    """Leave the current step for `target`: another step, the closing or a transfer."""
    if target == CLOSING:
        return _hang_up(script, progress, say=say, responses=responses, reason=reason)
    if target == TRANSFER:
        return _transfer(script, progress.ended().state(), say=say, responses=responses, reason=reason)
    step = script.step(target)
    if step is None:  # parse() refuses such a script; a hand-built one still ends politely
        return _bad_state({}, why=f"the script leads to no step '{target}'")
    moved = _Progress(step=step.id, turns=progress.turns, not_interested=progress.not_interested)
    return Turn((*say, _question(script, step)), Action.LISTEN, moved.state(), responses, reason=reason)


def _hang_up(script: Script, progress: _Progress, *, say=(), responses=(), reason: str) -> Turn:
    """The closing line and goodbye: the script is as complete as this person will make it."""
    outcome = NOT_INTERESTED if progress.not_interested else COMPLETED_SCRIPT
    return Turn((*say, _closing(script)), Action.HANG_UP, progress.ended().state(), responses, outcome=outcome, reason=reason)


def _transfer(script: Script, state: dict, *, say=(), responses=(), reason: str) -> Turn:
    say = (*say, transfer_notice(script.client_name))
    return Turn(say, Action.TRANSFER, state, responses, outcome=TRANSFERRED, reason=reason)


def _opted_out(script: Script, state) -> Turn:
    say = (opt_out_confirmation(script.client_name),)
    return Turn(say, Action.HANG_UP, _final(script, state), outcome=OPTED_OUT, opt_out=True, reason="guardrail:opt_out")


def _bad_state(state, *, why: str = "") -> Turn:
    # The state holds no personal data, but a corrupt one could hold anything: log its shape only.
    shape = sorted(map(str, state))[:10] if isinstance(state, dict) else type(state).__name__
    logger.warning("Conversation cannot go on (%s): call ended politely", why or f"state {shape} does not fit the script")
    return Turn((GOODBYE,), Action.HANG_UP, _Progress(done=True).state(), outcome=FAILED, reason="bad_state")


def _final(script: Script, state) -> dict:
    """The state of a call ending on a guardrail, whether or not its state was usable."""
    progress = _Progress.read(script, state) or _Progress()
    return replace(progress, turns=progress.turns + 1, done=True).state()


def _reply(replies: ReplyGenerator, script: Script, step: Step, heard: Heard) -> Reply:
    try:
        reply = replies.reply(script, step, heard)
    except Exception as error:
        # A live call must not fail because a generator did; the type only, as the message may quote the person.
        logger.warning("Reply generator %s failed on step %s (%s)", type(replies).__name__, step.id, type(error).__name__)
        reply = RuleBasedReplies().reply(script, step, heard)
    # A generator may only choose among this step's answers.
    return reply if reply.answer is None or reply.answer in step.answers else Reply()


def _opening_lines(script: Script) -> list[str]:
    lines = script.opening()
    # The greeting is the client's text: it passes guard_reply like every line the platform did not write.
    if script.greeting:
        lines[-1] = guard_reply(script.greeting, script, limit=LIMITS["greeting"])
    return lines


def _question(script: Script, step: Step) -> str:
    return guard_reply(step.question, script, limit=LIMITS["question"])


def _closing(script: Script) -> str:
    return guard_reply(script.closing, script, limit=LIMITS["closing"]) if script.closing else GOODBYE
