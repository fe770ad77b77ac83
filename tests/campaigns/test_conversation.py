"""The conversation engine: the platform's lines first, guardrails before anything else on every
turn, then the script, whatever generates the replies. Pure Python: no database."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.conversation import engine
from campaigns.conversation.engine import Action, Heard, Response, next_turn, opening
from campaigns.conversation.guardrails import (
    MAX_REPLY_CHARS,
    ai_reminder,
    asks_for_person,
    guard_reply,
    is_opt_out,
    missed_opt_out,
    refusal_of_secrets,
)
from campaigns.conversation.replies import LLMReplies, Reply, RuleBasedReplies, reply_generator
from campaigns.models import Call
from campaigns.script import (
    EXAMPLE,
    GOODBYE,
    NOT_UNDERSTOOD,
    RECORDING_NOTICE,
    disclosure,
    opt_out_confirmation,
    options,
    parse,
    transfer_notice,
)

CLIENT = "Acme Energy"
SATISFIED = EXAMPLE["steps"][0]["question"]
CALLBACK = EXAMPLE["steps"][1]["question"]
CLOSING = EXAMPLE["closing"]


def example(**kwargs):
    return parse(EXAMPLE, client_name=CLIENT, **kwargs)


def one_question(*answers, otherwise="closing", greeting="Hello.", closing="Bye now."):
    step = {"id": "ask", "question": "Shall we go on?", "answers": list(answers), "otherwise": otherwise}
    return parse({"greeting": greeting, "steps": [step], "closing": closing}, client_name=CLIENT)


def converse(script, *said, replies=None):
    """The opening, then the turn after each thing said, the state kept as JSON between turns as a transport keeps it."""
    turns = [opening(script)]
    for heard in said:
        heard = heard if isinstance(heard, Heard) else Heard(speech=heard)
        state = json.loads(json.dumps(turns[-1].state))
        turns.append(next_turn(script, state, heard, replies=replies))
    return turns


def responses(turns):
    return [(r.step_id, r.value, r.heard) for turn in turns for r in turn.responses]


class AlwaysYes:
    """A generator that matches "yes" whatever was said, and counts how often it was asked."""

    def __init__(self):
        self.asked = 0

    def reply(self, script, step, heard):
        self.asked += 1
        return Reply(next(a for a in step.answers if a.value == "yes"), "Lovely.")


# --- The opening -------------------------------------------------------------------------


@pytest.mark.obligation("P52", "P50", "P49")
def test_the_call_opens_with_the_ai_disclosure_then_the_options_then_the_greeting_and_first_question():
    turn = opening(example())

    assert turn.say == (
        disclosure(CLIENT),
        options(CLIENT),
        EXAMPLE["greeting"],
        SATISFIED,
    )
    assert turn.say[0] == "Hello, this is an automated AI assistant calling on behalf of Acme Energy."
    assert turn.action == Action.LISTEN and turn.state["step"] == "satisfied"


@pytest.mark.obligation("P52")
def test_a_recorded_call_gives_the_recording_notice_after_the_disclosure_and_before_the_greeting():
    turn = opening(example(recording=True))

    assert turn.say[:3] == (disclosure(CLIENT), RECORDING_NOTICE, options(CLIENT))


@pytest.mark.obligation("P52")
def test_a_greeting_that_asks_for_card_details_is_replaced_and_the_disclosure_stays_first():
    script = parse({"greeting": "Please have your card number ready.", "closing": ""}, client_name=CLIENT)

    turn = opening(script)

    assert turn.say == (disclosure(CLIENT), options(CLIENT), refusal_of_secrets(), GOODBYE)


def test_a_script_without_questions_greets_closes_and_hangs_up():
    script = parse({"greeting": "Your boiler is due a service.", "closing": "Goodbye."}, client_name=CLIENT)

    turn = opening(script)

    assert turn.say[-2:] == ("Your boiler is due a service.", "Goodbye.")
    assert (turn.action, turn.outcome, turn.state["done"]) == (Action.HANG_UP, "completed_script", True)


def test_every_outcome_the_engine_gives_is_a_call_outcome():
    given = {engine.COMPLETED_SCRIPT, engine.OPTED_OUT, engine.TRANSFERRED, engine.FAILED, "not_interested"}

    assert given <= set(Call.Outcome.values)


# --- Walking the script ------------------------------------------------------------------


@pytest.mark.obligation("P06")
def test_a_cooperative_call_walks_every_step_records_each_answer_and_closes():
    turns = converse(example(), "Yeah, it was fine.", "Yes please")

    assert turns[1].say == (CALLBACK,) and turns[1].action == Action.LISTEN
    assert turns[2].say == (CLOSING,) and turns[2].action == Action.HANG_UP
    assert turns[2].outcome == "completed_script"
    assert responses(turns) == [("satisfied", "yes", "Yeah, it was fine."), ("callback", "yes", "Yes please")]
    assert turns[1].responses[0] == Response("satisfied", SATISFIED, "yes", "Yeah, it was fine.")


@pytest.mark.obligation("P06")
def test_keypad_answers_walk_the_script_and_a_no_thanks_ends_not_interested():
    turns = converse(example(), Heard(digits="2"), Heard(digits="2"))

    assert responses(turns) == [("satisfied", "no", "2"), ("callback", "no", "2")]
    assert (turns[2].action, turns[2].outcome) == (Action.HANG_UP, "not_interested")


def test_not_interested_earlier_in_the_call_is_still_the_outcome_when_it_closes():
    first = {"id": "keen", "question": "Interested?", "answers": [], "otherwise": "feedback"}
    first["answers"] = [
        {"value": "no", "phrases": ["no"], "outcome": "not_interested", "next": "feedback"},
        {"value": "yes", "phrases": ["yes"], "next": "feedback"},
    ]
    last = {"id": "feedback", "question": "Any comments?", "answers": [{"value": "none", "phrases": ["no"]}]}
    script = parse({"greeting": "Hi.", "steps": [first, last], "closing": "Bye."}, client_name=CLIENT)

    turns = converse(script, "no", "no")

    assert turns[1].say == ("Any comments?",) and turns[1].outcome == ""
    assert turns[2].outcome == "not_interested"


def test_an_answer_that_leads_to_transfer_transfers_to_a_person():
    script = one_question({"value": "yes", "phrases": ["yes"], "next": "transfer"})

    turns = converse(script, "yes")

    assert turns[1].say == (transfer_notice(CLIENT),)
    assert (turns[1].action, turns[1].outcome) == (Action.TRANSFER, "transferred")
    assert responses(turns) == [("ask", "yes", "yes")]


@pytest.mark.obligation("P06")
def test_an_answer_not_understood_is_asked_again_once_then_the_step_moves_on_unanswered():
    turns = converse(example(), "banana", "the weather is lovely")

    assert turns[1].say == (NOT_UNDERSTOOD, SATISFIED) and turns[1].responses == ()
    assert turns[2].say == (CALLBACK,)
    assert responses(turns) == [("satisfied", "", "the weather is lovely")]


def test_an_answer_understood_after_the_reprompt_moves_along_its_branch():
    turns = converse(example(), "banana", "not really")

    assert turns[2].say == (CALLBACK,)
    assert responses(turns) == [("satisfied", "no", "not really")]


def test_an_otherwise_that_leads_to_transfer_transfers_after_the_reprompt():
    script = one_question({"value": "yes", "phrases": ["yes"]}, otherwise="transfer")

    turns = converse(script, "hmm", "hmm")

    assert (turns[2].action, turns[2].outcome) == (Action.TRANSFER, "transferred")


def test_silence_is_asked_again_and_silence_twice_in_a_row_closes_the_call():
    turns = converse(example(), Heard(), Heard(speech="  ", digits=None))

    assert turns[1].say == (NOT_UNDERSTOOD, SATISFIED) and turns[1].action == Action.LISTEN
    assert turns[2].say == (CLOSING,) and turns[2].action == Action.HANG_UP
    assert (turns[2].outcome, turns[2].reason, turns[2].responses) == ("completed_script", "step:satisfied:silent_twice", ())


@pytest.mark.parametrize("between", ["banana", "are you a robot?"])
def test_silence_broken_by_speech_starts_counting_again(between):
    turns = converse(example(), Heard(), between, Heard())

    assert [t.action for t in turns[1:]] == [Action.LISTEN, Action.LISTEN, Action.LISTEN]


def test_silence_counts_per_step():
    turns = converse(example(), Heard(), "yes", Heard())

    assert turns[3].say == (NOT_UNDERSTOOD, CALLBACK) and turns[3].action == Action.LISTEN


def test_a_generator_that_fails_leaves_the_call_to_the_rules():
    class Broken:
        def reply(self, script, step, heard):
            raise RuntimeError("model exploded")

    turns = converse(example(), "yes", replies=Broken())

    assert turns[1].say == (CALLBACK,) and responses(turns) == [("satisfied", "yes", "yes")]


def test_a_generator_cannot_answer_with_an_answer_the_step_does_not_have():
    script = example()

    class Foreign:
        def reply(self, script_, step, heard):
            return Reply(script.step("callback").answers[1])  # "no" of another step, with its not_interested outcome

    turns = converse(script, "whatever", replies=Foreign())

    assert turns[1].say == (NOT_UNDERSTOOD, SATISFIED)


# --- Opt-out (P49, P40) --------------------------------------------------------------------

OPT_OUTS = [
    "stop",
    "STOP!",
    "Stop.",
    "please stop",
    "just stop it",
    "stop calling me",
    "Stop calling me!",
    "STOP CALLING",
    "stop ringing me",
    "stop phoning this number",
    "don't call me",
    "Don\u2019t call me again",
    "dont call me",
    "do not call",
    "Please don't ring this number again.",
    "remove me",
    "remove me from your list",
    "Remove my number please",
    "take me off your list",
    "Take me off the list, please.",
    "take my number off your database",
    "I want to be removed from your calling list",
    "unsubscribe",
    "I want to unsubscribe",
    "leave me alone",
    "Just leave me alone!",
    "not interested, stop",
    "Not interested. Stop.",
    "stop, I'm not interested",
    "never call me again",
    "I don't want any more calls",
    "I don't want you to call me",
    "I asked you not to call",
    "no more calls please",
    "opt me out",
    "I want to opt out",
    "I'm registered with the Telephone Preference Service",
    "I'm on the TPS",
    "won't you stop?",
    "Don't. Stop.",
    "I'm at the bus stop. Stop calling me.",
    "don't stop calling me",  # not honoured literally: see guardrails' docstring
]

NOT_OPT_OUTS = [
    "don't stop",
    "please do not stop, I'm listening",
    "it has been non-stop today",
    "I was waiting at the bus stop",
    "I stopped by the office",
    "the engineer stopped the leak",
    "I'll stop by later",
    "it won't stop making that noise",
    "it's fine, you needn't stop",
    "he never stops talking",
    "yes, it was fine",
    "no thanks",
    "not interested",
    "the engineer removed the old pipe",
    "I didn't call you",
    "we crossed the road at the stop sign",
    "",
]


@pytest.mark.obligation("P49")
@pytest.mark.parametrize("said", OPT_OUTS)
def test_an_opt_out_however_it_is_put_is_recognised(said):
    assert is_opt_out(said)


@pytest.mark.parametrize("said", NOT_OPT_OUTS)
def test_stop_as_a_noun_or_negated_and_ordinary_answers_are_not_opt_outs(said):
    assert not is_opt_out(said)


@pytest.mark.obligation("P49", "P40")
@pytest.mark.parametrize("said", ["Stop calling me", "take me off your list", "not interested, stop"])
def test_an_opt_out_mid_call_is_confirmed_flagged_and_ends_the_call(said):
    turns = converse(example(), "yes", said)

    ended = turns[2]
    assert ended.say == (opt_out_confirmation(CLIENT),)
    assert (ended.action, ended.opt_out, ended.outcome) == (Action.HANG_UP, True, "opted_out")
    assert ended.responses == () and ended.state["done"] is True


@pytest.mark.obligation("P49", "P40")
def test_the_stop_digit_opts_out_on_any_step():
    for said in ([Heard(digits="9")], ["yes", Heard(digits="9")]):
        ended = converse(example(), *said)[-1]
        assert (ended.opt_out, ended.outcome, ended.action) == (True, "opted_out", Action.HANG_UP)


@pytest.mark.obligation("P40")
@pytest.mark.parametrize("then", ["yes", "can I speak to a person?", Heard(digits="0")])
def test_after_an_opt_out_nothing_more_is_asked_done_or_recorded(then):
    turns = converse(example(), "stop", then)

    assert turns[2].say == () and turns[2].action == Action.HANG_UP
    assert (turns[2].outcome, turns[2].reason, turns[2].responses) == ("", "already_ended", ())


@pytest.mark.obligation("P49", "P40")
def test_an_opt_out_is_honoured_before_any_generator_is_asked():
    generator = AlwaysYes()

    turns = converse(example(), "yes, but stop calling me", replies=generator)

    assert turns[1].opt_out and generator.asked == 0


@pytest.mark.obligation("P49")
@pytest.mark.parametrize("state", [None, {}, {"v": 1, "step": "gone"}, "garbage"])
def test_an_opt_out_is_honoured_whatever_the_state(state):
    turn = next_turn(example(), state, Heard(speech="stop"))

    assert turn.opt_out and turn.outcome == "opted_out"


@pytest.mark.obligation("P40")
def test_the_post_call_scan_finds_an_opt_out_the_agent_missed():
    assert missed_opt_out(["Yes it was fine", "hang on", "actually, take me off your list"])
    assert not missed_opt_out(["Yes it was fine", "no thanks, bye"])
    assert not missed_opt_out([])


# --- A person, and what is calling (P50) ---------------------------------------------------


@pytest.mark.obligation("P50")
@pytest.mark.parametrize(
    "said",
    [
        "speak to a person",
        "Can I talk to someone?",
        "I want a real person",
        "human",
        "Get me a human being",
        "agent",
        "operator, please",
        "someone real please",
        "put me through to your team",
        "person",
        "Are you a real person? I want to talk to a person.",
    ],
)
def test_asking_for_a_person_transfers_the_call(said):
    turn = converse(example(), said)[1]

    assert turn.say == (transfer_notice(CLIENT),)
    assert (turn.action, turn.outcome, turn.reason) == (Action.TRANSFER, "transferred", "guardrail:person")


@pytest.mark.obligation("P50")
def test_a_person_is_offered_even_when_the_state_is_unusable():
    turn = next_turn(example(), {"v": 1, "step": "gone"}, Heard(speech="get me a person"))

    assert (turn.action, turn.outcome) == (Action.TRANSFER, "transferred")


@pytest.mark.obligation("P50")
def test_the_person_digit_transfers_the_call():
    turn = converse(example(), "yes", Heard(digits="0"))[2]

    assert (turn.action, turn.outcome) == (Action.TRANSFER, "transferred")


@pytest.mark.parametrize(
    "said", ["I'll sort it out in person", "my estate agent has the keys", "it was human error", "yes", "Is this a person?"]
)
def test_words_that_only_sound_like_asking_for_a_person_do_not_transfer(said):
    assert not asks_for_person(said)


@pytest.mark.obligation("P50", "P52")
@pytest.mark.parametrize(
    "said",
    [
        "Are you a robot?",
        "is this a real person?",
        "Am I talking to a human?",
        "are you an A.I.?",
        "You're a machine, aren't you?",
        "Is this automated?",
        "who's calling?",
    ],
)
def test_asking_what_is_calling_restates_the_disclosure_truthfully_and_asks_again(said):
    turn = converse(example(), said)[1]

    assert turn.say == (ai_reminder(CLIENT), SATISFIED)
    assert "automated AI assistant calling on behalf of Acme Energy, not a person" in turn.say[0]
    assert (turn.action, turn.state["step"], turn.responses) == (Action.LISTEN, "satisfied", ())


def test_asking_what_is_calling_does_not_use_up_the_reprompt():
    turns = converse(example(), "are you a robot?", "banana")

    assert turns[2].say == (NOT_UNDERSTOOD, SATISFIED)


# --- Limits and bad state ------------------------------------------------------------------


def test_a_call_that_goes_round_in_circles_ends_politely_at_the_turn_limit():
    turns = converse(example(), *["are you a robot?"] * engine.MAX_TURNS)

    assert all(t.action == Action.LISTEN for t in turns[:-1])
    last = turns[-1]
    assert last.say == (ai_reminder(CLIENT), CLOSING)
    assert (last.action, last.reason, last.outcome) == (Action.HANG_UP, "turn_limit", "completed_script")


@pytest.mark.obligation("P49")
def test_at_the_turn_limit_an_opt_out_is_still_honoured():
    state = {**opening(example()).state, "turns": engine.MAX_TURNS - 1}

    turn = next_turn(example(), state, Heard(speech="stop"))

    assert turn.opt_out and turn.outcome == "opted_out"


GOOD = opening(parse(EXAMPLE, client_name=CLIENT)).state


@pytest.mark.parametrize(
    "state",
    [
        None,
        [],
        "garbage",
        {},
        {**GOOD, "v": 2},
        {**GOOD, "step": "no_such_step"},
        {**GOOD, "step": 7},
        {**GOOD, "turns": -1},
        {**GOOD, "turns": "3"},
        {**GOOD, "reprompts": True},
        {**GOOD, "done": "no"},
        {**GOOD, "name": "Ada Lovelace"},
        {key: value for key, value in GOOD.items() if key != "silences"},
    ],
)
def test_a_state_that_does_not_fit_the_script_ends_the_call_politely_instead_of_raising(state):
    turn = next_turn(example(), state, Heard(speech="yes"))

    assert turn.say == (GOODBYE,) and turn.action == Action.HANG_UP
    assert (turn.outcome, turn.reason, turn.state["done"]) == ("failed", "bad_state", True)


def test_the_state_is_json_and_holds_nothing_the_person_said():
    said = ["My name is Ada and my number is 07911 123456", "yes", "no thanks"]

    turns = converse(example(), *said)

    for turn in turns:
        stored = json.dumps(turn.state)
        assert "Ada" not in stored and "07911" not in stored and "thanks" not in stored


# --- What may be said ----------------------------------------------------------------------


@pytest.mark.obligation("P52")
@pytest.mark.parametrize(
    "reply",
    [
        "I'm a real person.",
        "Yes, I am human!",
        "I\u2019m not a robot, promise",
        "This is not an automated call.",
        "I am not an AI",
    ],
)
def test_a_reply_that_claims_to_be_human_is_replaced_by_the_truth(reply):
    assert guard_reply(reply, example()) == ai_reminder(CLIENT)


@pytest.mark.parametrize(
    "reply",
    [
        "Could you read me the long number on your card?",
        "What's your sort code?",
        "Please confirm your password.",
        "And the CVV on the back?",
        "Can I take your bank details?",
        "What is your PIN number?",
        "Pop your debit card number in now",
    ],
)
def test_a_reply_that_asks_for_card_or_bank_details_or_passwords_is_replaced(reply):
    assert guard_reply(reply, example()) == refusal_of_secrets()


def test_a_long_reply_is_cut_at_the_last_sentence_that_fits():
    reply = "Thank you. " * 40

    guarded = guard_reply(reply, example())

    assert len(guarded) <= MAX_REPLY_CHARS and guarded.endswith("Thank you.")
    assert len(guarded) > MAX_REPLY_CHARS - len("Thank you. ")


def test_a_long_reply_without_a_sentence_end_is_cut_at_a_whole_word():
    guarded = guard_reply("word " * 100, example(), limit=22)

    assert guarded == "word word word word."


def test_an_ordinary_reply_is_spoken_as_written_without_markup():
    assert guard_reply("**Great**, thank you!", example()) == "Great , thank you!"
    assert guard_reply("That's helpful, thanks.", example()) == "That's helpful, thanks."
    assert guard_reply("   ", example()) == ""


@pytest.mark.obligation("P52")
def test_the_platforms_own_reminder_passes_its_own_guard():
    assert guard_reply(ai_reminder(CLIENT), example()) == ai_reminder(CLIENT)


@pytest.mark.obligation("P52")
def test_an_acknowledgement_claiming_to_be_human_never_reaches_the_call():
    class Liar:
        def reply(self, script, step, heard):
            return Reply(step.answers[0], "I'm a real person, don't worry.")

    turn = converse(example(), "yes", replies=Liar())[1]

    assert turn.say == (ai_reminder(CLIENT), CALLBACK)


# --- The rule-based replies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("yes", "yes"),
        ("YES!", "yes"),
        ("Yeah.", "yes"),
        ("yep", "yes"),
        ("yes please", "yes"),
        ("I was very happy", "yes"),
        ("it was fine", "yes"),
        ("no", "no"),
        ("nope", "no"),
        ("nah", "no"),
        ("not really", "no"),
        ("Not really, no.", "no"),
        ("I was unhappy", "no"),
        ("not happy", None),
        ("not very happy", None),
        ("yes and no", None),
        ("happy? no", None),
        ("banana", None),
        ("yesterday", None),
    ],
)
def test_speech_matches_whole_phrases_honours_negation_and_refuses_to_guess(said, value):
    step = example().step("satisfied")

    reply = RuleBasedReplies().reply(example(), step, Heard(speech=said))

    assert (reply.answer.value if reply.answer else None) == value


@pytest.mark.parametrize(
    ("said", "value"), [("yes please", "yes"), ("no thanks", "no"), ("not interested", "no"), ("okay", "yes")]
)
def test_phrases_and_their_spoken_variants_match_on_the_callback_step(said, value):
    step = example().step("callback")

    assert RuleBasedReplies().reply(example(), step, Heard(speech=said)).answer.value == value


@pytest.mark.parametrize(("said", "value"), [("tomorrow morning please", "tomorrow"), ("this morning", "today")])
def test_the_longest_phrase_wins_over_another_answers_phrase_inside_it(said, value):
    script = one_question(
        {"value": "today", "phrases": ["morning", "this afternoon"]},
        {"value": "tomorrow", "phrases": ["tomorrow morning", "tomorrow"]},
    )

    reply = RuleBasedReplies().reply(script, script.step("ask"), Heard(speech=said))

    assert reply.answer.value == value


@pytest.mark.parametrize(
    ("digits", "value"), [("1", "yes"), ("2", "no"), ("1#", "yes"), ("11", "yes"), ("3", None), ("12", None)]
)
def test_keypad_digits_match_the_answers_digits(digits, value):
    step = example().step("satisfied")

    reply = RuleBasedReplies().reply(example(), step, Heard(digits=digits))

    assert (reply.answer.value if reply.answer else None) == value


# --- The LLM replies, against a fake endpoint over real HTTP --------------------------------


def completion(content):
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})


class FakeLLM:
    """An OpenAI-compatible endpoint on 127.0.0.1: answers `status` and `body` after `delay` seconds."""

    def __init__(self):
        self.status, self.body, self.delay = 200, completion('{"value": null}'), 0.0
        self.received = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                fake.received.append((self.path, self.headers.get("Authorization"), json.loads(self.rfile.read(length))))
                time.sleep(fake.delay)
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(fake.body.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args):
                pass

        return Handler

    def answers(self, content):
        self.status, self.body = 200, completion(content)

    def fails(self, status, body):
        self.status, self.body = status, body

    def generator(self, timeout=1.0):
        return LLMReplies(url=self.url, model="tiny-classifier", api_key="sk-test", timeout_seconds=timeout)


@pytest.fixture
def llm():
    fake = FakeLLM()
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def satisfied_reply(generator, said):
    script = example()
    return generator.reply(script, script.step("satisfied"), Heard(speech=said))


def test_the_llm_is_asked_to_classify_into_the_steps_values_and_its_answer_is_used(llm):
    llm.answers('{"value": "yes", "acknowledgement": "Lovely, thank you."}')

    reply = satisfied_reply(llm.generator(), "absolutely smashing, mate")

    assert (reply.answer.value, reply.acknowledgement) == ("yes", "Lovely, thank you.")
    path, authorization, request = llm.received[0]
    assert (path, authorization, request["model"]) == ("/v1/chat/completions", "Bearer sk-test", "tiny-classifier")
    asked = json.loads(request["messages"][-1]["content"])
    assert asked["caller_said"] == "absolutely smashing, mate"
    assert [a["value"] for a in asked["answers"]] == ["yes", "no"]


def test_the_llms_acknowledgement_is_said_before_the_next_question(llm):
    llm.answers('{"value": "yes", "acknowledgement": "Lovely, thank you."}')

    turn = converse(example(), "absolutely smashing", replies=llm.generator())[1]

    assert turn.say == ("Lovely, thank you.", CALLBACK)


def test_an_llm_slower_than_the_timeout_falls_back_to_the_rules(llm, caplog):
    llm.answers('{"value": "no"}')
    llm.delay = 1.0

    started = time.monotonic()
    reply = satisfied_reply(llm.generator(timeout=0.2), "yes")

    assert reply.answer.value == "yes" and time.monotonic() - started < 0.9
    assert "rule-based reply used" in caplog.text and "Timeout" in caplog.text


def test_an_llm_error_falls_back_to_the_rules(llm, caplog):
    llm.fails(500, '{"error": "overloaded"}')

    reply = satisfied_reply(llm.generator(), "not really")

    assert reply.answer.value == "no" and "HTTP 500" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        "this is not json",
        json.dumps({"choices": []}),
        json.dumps({"id": "x"}),
        completion("yes"),
        completion('["yes"]'),
        completion('{"value": 1}'),
        completion('{"value": "yes", "acknowledgement": ["hi"]}'),
    ],
)
def test_malformed_llm_output_falls_back_to_the_rules(llm, body, caplog):
    llm.fails(200, body)

    reply = satisfied_reply(llm.generator(), "not really")

    assert reply.answer.value == "no" and "rule-based reply used" in caplog.text


def test_an_llm_that_cannot_be_reached_falls_back_to_the_rules():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    generator = LLMReplies(url=f"http://127.0.0.1:{closed_port}/v1", model="m", timeout_seconds=0.5)

    assert satisfied_reply(generator, "yes").answer.value == "yes"


def test_a_value_the_script_does_not_have_is_no_match_not_a_guess(llm):
    llm.answers('{"value": "maybe", "acknowledgement": "Great!"}')

    reply = satisfied_reply(llm.generator(), "yes")

    assert reply == Reply()


def test_the_llm_says_no_match_and_the_call_asks_again(llm):
    llm.answers('{"value": null, "acknowledgement": ""}')

    turn = converse(example(), "what was the question", replies=llm.generator())[1]

    assert turn.say == (NOT_UNDERSTOOD, SATISFIED)


@pytest.mark.obligation("P52")
def test_the_llms_acknowledgement_passes_the_reply_guard(llm):
    llm.answers('{"value": "yes", "acknowledgement": "Great, I am a real person by the way."}')

    assert satisfied_reply(llm.generator(), "yes").acknowledgement == ai_reminder(CLIENT)


def test_keys_and_silence_are_not_sent_to_the_llm(llm):
    converse(example(), Heard(digits="1"), Heard(), replies=llm.generator())

    assert llm.received == []


@pytest.mark.obligation("P49", "P50")
def test_the_guardrails_run_before_the_llm_is_asked(llm):
    llm.answers('{"value": "yes"}')

    turns = converse(example(), "stop calling me", replies=llm.generator())
    transfer = converse(example(), "I want to speak to a person", replies=llm.generator())

    assert turns[1].opt_out and transfer[1].action == Action.TRANSFER and llm.received == []


def test_the_llm_is_the_generator_only_when_configured(settings):
    settings.CONVERSATION_LLM_URL = ""
    assert isinstance(reply_generator(), RuleBasedReplies)

    settings.CONVERSATION_LLM_URL = "http://127.0.0.1:1/v1/"
    settings.CONVERSATION_LLM_TIMEOUT_SECONDS = 0.7
    generator = reply_generator()
    assert isinstance(generator, LLMReplies)
    assert (generator.endpoint, generator.timeout_seconds) == ("http://127.0.0.1:1/v1/chat/completions", 0.7)
