"""The conversation guardrails: opt-outs, requests for a person, and what the agent may say."""

import pytest

from campaigns.conversation.guardrails import (
    MAX_REPLY_CHARS,
    ai_reminder,
    asks_for_person,
    guard_reply,
    is_opt_out,
    missed_opt_out,
    refusal_of_secrets,
)
from campaigns.script import EXAMPLE, parse

CLIENT = "Acme Energy"


def example(**kwargs):
    return parse(EXAMPLE, client_name=CLIENT, **kwargs)


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


@pytest.mark.obligation("P40")
def test_the_post_call_scan_finds_an_opt_out_the_agent_missed():
    assert missed_opt_out(["Yes it was fine", "hang on", "actually, take me off your list"])
    assert not missed_opt_out(["Yes it was fine", "no thanks, bye"])
    assert not missed_opt_out([])


@pytest.mark.parametrize(
    "said", ["I'll sort it out in person", "my estate agent has the keys", "it was human error", "yes", "Is this a person?"]
)
def test_words_that_only_sound_like_asking_for_a_person_do_not_transfer(said):
    assert not asks_for_person(said)


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
