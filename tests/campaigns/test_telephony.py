"""The call instructions (TwiML) of each turn, and the parsing of every kind of webhook into CallEvents.

No test here needs the database.
"""

import enum
from xml.etree import ElementTree

import pytest
from django.http import QueryDict

from campaigns import script
from campaigns.models import Call
from campaigns.telephony import twiml
from campaigns.telephony.base import CallbackUrls
from campaigns.telephony.parsing import parse_event

CALL_SID = "CA" + "2" * 32
RECORDING_SID = "RE" + "3" * 32
CALLER_ID = "+442071838710"  # its last two digits: a simulated person who answers
TRANSFER_TO = "+442079460000"
CLIENT = "Acme Energy"
BASE = "http://testserver/telephony"
QUESTIONS = [
    "Were you happy with the engineer's visit? Please say yes or no, or press 1 for yes and 2 for no.",
    "Would you like a call about your next service? Say yes or no.",
]


def callbacks(base: str = BASE) -> CallbackUrls:
    return CallbackUrls(
        status=f"{base}/status/7",
        machine_detection=f"{base}/machine_detection/7",
        turn=f"{base}/turn/7",
        fallback=f"{base}/fallback/7",
        recording=f"{base}/recording/7",
        dial=f"{base}/dial/7",
    )


def opening(base: str = BASE, *, record: bool = False) -> str:
    if record:
        return twiml.opening_twiml([script.disclosure(CLIENT), script.RECORDING_NOTICE], redirect_to=f"{base}/after_notice/7")
    return twiml.opening_twiml(
        [script.disclosure(CLIENT), script.options(CLIENT)], gather_action=callbacks(base).turn, question=[QUESTIONS[0]]
    )


def parsed(document: str) -> ElementTree.Element:
    root = ElementTree.fromstring(document)  # noqa: S314  (TwiML this test built)
    assert root.tag == "Response"
    return root


def assert_spoken_in_british_english(say: ElementTree.Element, settings) -> None:
    assert say.tag == "Say"
    assert say.get("language") == "en-GB"
    assert say.get("voice") == settings.TELEPHONY_VOICE


def assert_listens_for_one_answer(gather: ElementTree.Element, action: str) -> None:
    assert gather.tag == "Gather"
    assert set(gather.get("input").split()) == {"speech", "dtmf"}
    assert gather.attrib | {"input": "-"} == {
        "input": "-",
        "action": action,
        "method": "POST",
        "language": "en-GB",
        "speechTimeout": "auto",
        "timeout": "5",
        "numDigits": "1",
        "actionOnEmptyResult": "true",
    }


@pytest.mark.obligation("P52")
def test_opening_speaks_the_platforms_lines_whole_then_asks_the_first_question(settings):
    root = parsed(opening())

    say_disclosure, say_options, gather = list(root)
    # The disclosure comes first, outside the gather: no answer can cut it short.
    assert say_disclosure.text == script.disclosure(CLIENT)
    assert say_options.text == script.options(CLIENT)
    for say in (say_disclosure, say_options):
        assert_spoken_in_british_english(say, settings)
    assert_listens_for_one_answer(gather, f"{BASE}/turn/7")
    [question] = list(gather)
    assert question.text == QUESTIONS[0]
    assert_spoken_in_british_english(question, settings)


@pytest.mark.obligation("P07")
def test_opening_of_a_recorded_call_hands_back_after_the_notice(settings):
    root = parsed(opening(record=True))

    disclosure, notice, redirect = list(root)
    assert [disclosure.text, notice.text] == [script.disclosure(CLIENT), script.RECORDING_NOTICE]
    assert (redirect.tag, redirect.text, redirect.get("method")) == ("Redirect", f"{BASE}/after_notice/7", "POST")


@pytest.mark.parametrize("targets", [{}, {"gather_action": "a", "redirect_to": "b"}])
def test_opening_either_listens_or_hands_back(targets):
    with pytest.raises(ValueError, match="give one"):
        twiml.opening_twiml(["Hello."], **targets)


def test_listen_turn_says_the_reply_inside_a_gather_so_an_early_answer_counts(settings):
    root = parsed(twiml.turn_twiml([script.NOT_UNDERSTOOD, QUESTIONS[1]], twiml.LISTEN, gather_action=f"{BASE}/turn/7"))

    [gather] = list(root)
    assert_listens_for_one_answer(gather, f"{BASE}/turn/7")
    assert [say.text for say in gather] == [script.NOT_UNDERSTOOD, QUESTIONS[1]]


@pytest.mark.obligation("P50")
def test_transfer_turn_dials_the_person_showing_the_caller_id_ringing_long_enough(settings):
    root = parsed(
        twiml.turn_twiml(
            [script.transfer_notice(CLIENT)],
            twiml.TRANSFER,
            transfer_to=TRANSFER_TO,
            caller_id=CALLER_ID,
            dial_action=f"{BASE}/dial/7",
        )
    )

    say, dial = list(root)
    assert_spoken_in_british_english(say, settings)
    assert dial.tag == "Dial"
    assert dial.text == TRANSFER_TO
    assert dial.get("callerId") == CALLER_ID
    assert int(dial.get("timeout")) >= 20
    assert (dial.get("action"), dial.get("method"), dial.get("answerOnBridge")) == (f"{BASE}/dial/7", "POST", "true")


def test_hang_up_turn_says_goodbye_then_hangs_up(settings):
    root = parsed(twiml.turn_twiml([script.GOODBYE], twiml.HANG_UP))

    assert [verb.tag for verb in root] == ["Say", "Hangup"]


def test_turn_action_may_be_an_enum_whose_value_names_it():
    class Action(enum.Enum):
        HANG_UP = "hang_up"

    assert [verb.tag for verb in parsed(twiml.turn_twiml(["Bye."], Action.HANG_UP))] == ["Say", "Hangup"]


@pytest.mark.parametrize(
    ("action", "arguments", "message"),
    [
        (twiml.LISTEN, {}, "gather_action"),
        (twiml.TRANSFER, {"transfer_to": TRANSFER_TO, "dial_action": "x"}, "caller_id"),
        ("sing", {}, "Unknown turn action"),
    ],
)
def test_turn_refuses_what_it_cannot_build(action, arguments, message):
    with pytest.raises(ValueError, match=message):
        twiml.turn_twiml(["Hello."], action, **arguments)


def test_message_then_hangup_skips_empty_lines_twilio_would_refuse(settings):
    root = parsed(twiml.message_then_hangup([script.information_message(CLIENT, CALLER_ID), "  ", ""]))

    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert root[0].text == script.information_message(CLIENT, CALLER_ID)


def test_call_back_greeting_listens_for_nine_or_stop(settings):
    root = parsed(twiml.gather_for_callback([script.callback_greeting(CLIENT)], f"{BASE}/inbound_choice"))

    [gather] = list(root)
    assert_listens_for_one_answer(gather, f"{BASE}/inbound_choice")
    assert [say.text for say in gather] == [script.callback_greeting(CLIENT)]


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("queued", Call.Status.QUEUED),
        ("initiated", Call.Status.QUEUED),
        ("ringing", Call.Status.RINGING),
        ("in-progress", Call.Status.IN_PROGRESS),
        ("completed", Call.Status.COMPLETED),
        ("busy", Call.Status.BUSY),
        ("no-answer", Call.Status.NO_ANSWER),
        ("failed", Call.Status.FAILED),
        ("canceled", Call.Status.CANCELLED),
        ("exploded", None),
        ("", None),
    ],
)
def test_status_is_said_in_the_platforms_words(twilio_status, ours):
    assert parse_event("status", {"CallSid": CALL_SID, "CallStatus": twilio_status}).status == ours


def test_status_event_carries_its_time_sequence_and_duration():
    event = parse_event(
        "status",
        {
            "CallSid": CALL_SID,
            "CallStatus": "completed",
            "Timestamp": "Tue, 02 Jun 2026 10:15:02 +0100",
            "SequenceNumber": "3",
            "CallDuration": "47",
            "From": CALLER_ID,
            "To": "+447700900001",
        },
    )

    assert event.kind == "status"
    assert event.call_sid == CALL_SID
    assert event.occurred_at.isoformat() == "2026-06-02T10:15:02+01:00"
    assert (event.sequence, event.duration_seconds) == (3, 47)
    assert (event.from_number, event.to_number) == (CALLER_ID, "+447700900001")
    assert event.raw["CallStatus"] == "completed"


def test_a_timestamp_in_utc_without_a_zone_claim_is_still_aware():
    event = parse_event("status", {"CallSid": CALL_SID, "Timestamp": "Tue, 02 Jun 2026 10:15:02 -0000"})

    assert event.occurred_at.utcoffset().total_seconds() == 0


def test_malformed_values_become_nothing_the_platform_would_trust():
    event = parse_event(
        "status",
        {"CallSid": CALL_SID, "CallStatus": "ringing!", "Timestamp": "yesterday", "SequenceNumber": "x", "CallDuration": "-4"},
    )

    assert (event.status, event.occurred_at, event.sequence, event.duration_seconds) == (None, None, None, None)


def test_machine_detection_event():
    event = parse_event(
        "machine_detection", {"CallSid": CALL_SID, "AnsweredBy": "machine_start", "MachineDetectionDuration": "3120"}
    )

    assert (event.answered_by, event.machine_detection_ms) == ("machine_start", 3120)
    assert parse_event("machine_detection", {"CallSid": CALL_SID, "AnsweredBy": "robot"}).answered_by is None


def test_turn_event_with_speech_and_keypad_input():
    speech = parse_event("turn", {"CallSid": CALL_SID, "SpeechResult": "  Yes,   please ", "Confidence": "0.87"})
    keypad = parse_event("turn", {"CallSid": CALL_SID, "Digits": "1"})
    nothing = parse_event("turn", {"CallSid": CALL_SID})

    assert (speech.speech, speech.confidence, speech.digits) == ("Yes, please", 0.87, "")
    assert (keypad.speech, keypad.digits) == ("", "1")
    assert (nothing.speech, nothing.digits, nothing.confidence) == ("", "", None)


def test_turn_event_drops_input_that_no_phone_could_have_sent():
    event = parse_event("turn", {"CallSid": CALL_SID, "Digits": "1; DROP TABLE", "Confidence": "7", "SpeechResult": "a" * 5000})

    assert (event.digits, event.confidence, len(event.speech)) == ("", None, 2000)


def test_fallback_event_names_the_failure_and_keeps_the_input():
    event = parse_event(
        "fallback", {"CallSid": CALL_SID, "ErrorCode": "11200", "ErrorUrl": f"{BASE}/turn/7", "SpeechResult": "yes"}
    )

    assert (event.error_code, event.error_url, event.speech) == ("11200", f"{BASE}/turn/7", "yes")


def test_recording_event():
    event = parse_event(
        "recording",
        {"CallSid": CALL_SID, "RecordingSid": RECORDING_SID, "RecordingStatus": "completed", "RecordingDuration": "31"},
    )

    assert (event.recording_sid, event.recording_status, event.recording_duration) == (RECORDING_SID, "completed", 31)
    assert parse_event("recording", {"CallSid": CALL_SID, "RecordingStatus": "lost"}).recording_status == ""


def test_dial_event():
    event = parse_event("dial", {"CallSid": CALL_SID, "DialCallStatus": "no-answer", "DialCallDuration": "0"})

    assert (event.dial_status, event.duration_seconds) == ("no-answer", 0)


def test_inbound_event_from_a_django_querydict():
    params = QueryDict(mutable=True)
    params.update({"CallSid": CALL_SID, "From": "+447700900001", "To": CALLER_ID, "CallStatus": "ringing"})

    event = parse_event("inbound", params)

    assert (event.call_sid, event.from_number, event.to_number, event.status) == (
        CALL_SID,
        "+447700900001",
        CALLER_ID,
        Call.Status.RINGING,
    )


def test_caller_id_event_is_known_by_its_number_even_without_a_call():
    event = parse_event("caller_id", {"To": CALLER_ID, "VerificationStatus": "success", "OutgoingCallerIdSid": "PN123"})

    assert (event.call_sid, event.to_number, event.verification_status, event.outgoing_caller_id_sid) == (
        "",
        CALLER_ID,
        "success",
        "PN123",
    )


@pytest.mark.parametrize("kind", ["status", "turn", "recording", "caller_id"])
def test_a_webhook_naming_no_call_is_a_clear_error(kind):
    with pytest.raises(ValueError, match="without a CallSid"):
        parse_event(kind, {"CallStatus": "completed"})


def test_an_unknown_webhook_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown webhook kind 'telepathy'"):
        parse_event("telepathy", {"CallSid": CALL_SID})
