"""The telephony providers: the REST requests Twilio's SDK sends, webhook signatures, the TwiML of each turn,
the parsing of every webhook, and the simulator playing each persona against a fake platform.

No test here needs the database: the fake platform answers webhooks with TwiML
the way the real views will, and the simulator keeps its calls in files.
"""

import contextlib
import dataclasses
import email.utils
import enum
import io
import json
import logging
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.test import RequestFactory
from django.utils.crypto import salted_hmac
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from campaigns import script
from campaigns.models import Call
from campaigns.telephony import available_providers, provider, simulator, twiml, webhook_url
from campaigns.telephony.base import CallbackUrls, CallRequest, ProviderError
from campaigns.telephony.parsing import parse_event
from campaigns.telephony.simulator import Persona, SimulatorProvider, example_number, persona_for
from campaigns.telephony.simulator.call import APPLICATION_ERROR
from campaigns.telephony.simulator.people import seconds_to_say
from campaigns.telephony.twilio import BytesHttpClient, TwilioProvider

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-auth-token"
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


def call_request(to: str = "+447700900001", **changes) -> CallRequest:
    base = changes.pop("base", BASE)
    values = {
        "call_id": 7,
        "to": to,
        "caller_id": CALLER_ID,
        "instructions": opening(base, record=changes.pop("record", False)),
        "callbacks": callbacks(base),
        "ring_timeout_seconds": 25,
    }
    return CallRequest(**{**values, **changes})


@pytest.fixture(autouse=True)
def simulator_files(settings, tmp_path):
    settings.TELEPHONY_SIMULATOR_DIR = tmp_path / "simulator"
    settings.TELEPHONY_SIMULATOR_PACE = 0.0
    settings.TELEPHONY_SIMULATOR_AUTORUN = False
    return settings.TELEPHONY_SIMULATOR_DIR


@dataclasses.dataclass
class Chosen:
    provider: object
    token: str  # what its webhooks are signed with
    dialled: object  # () -> what it dialled so far


@pytest.fixture(params=["twilio", "simulator"])
def either_provider(request, simulator_files):
    """Each provider in turn, for what both must do the same way."""
    if request.param == "twilio":
        http = RecordingHttpClient()
        chosen = TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, http_client=http)
        return Chosen(chosen, AUTH_TOKEN, lambda: http.sent)
    return Chosen(SimulatorProvider(), simulator.auth_token(), lambda: list(simulator_files.glob("calls/*.json")))


# --- Twilio's REST API, as the SDK sends it -------------------------------------


@dataclasses.dataclass
class Sent:
    method: str
    url: str
    params: dict
    data: dict
    auth: tuple | None


class RecordingHttpClient(HttpClient):
    """Twilio's API, played by a list of answers: records exactly what the SDK would have sent."""

    def __init__(self, *answers):
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.answers = list(answers)
        self.sent: list[Sent] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        self.sent.append(Sent(method, uri, params or {}, data or {}, auth))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return Response(status, body if isinstance(body, str | bytes) else json.dumps(body))


def twilio(*answers) -> tuple[TwilioProvider, RecordingHttpClient]:
    http = RecordingHttpClient(*answers)
    return TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, http_client=http), http


API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


@pytest.mark.obligation("P50", "P07")
def test_twilio_call_sends_the_opening_inline_with_callbacks_async_amd_and_a_long_ring():
    # given Twilio accepting the call
    twilio_provider, http = twilio((201, {"sid": CALL_SID, "status": "queued"}))
    request = call_request()

    # when the call is placed
    sid = twilio_provider.place_call(request)

    # then exactly these parameters went to the Calls resource: the caller ID shown (P50), the opening
    # inline, every status event, asynchronous AMD, a ring of 25 s; and no recording from the start (P07)
    assert sid == CALL_SID
    [sent] = http.sent
    assert (sent.method, sent.url, sent.auth) == ("POST", f"{API}/Calls.json", (ACCOUNT_SID, AUTH_TOKEN))
    assert sent.data == {
        "To": "+447700900001",
        "From": CALLER_ID,
        "Twiml": request.instructions,
        "StatusCallback": f"{BASE}/status/7",
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "StatusCallbackMethod": "POST",
        "Timeout": 25,
        "FallbackUrl": f"{BASE}/fallback/7",
        "FallbackMethod": "POST",
        "MachineDetection": "Enable",
        "AsyncAmd": "true",
        "AsyncAmdStatusCallback": f"{BASE}/machine_detection/7",
        "AsyncAmdStatusCallbackMethod": "POST",
    }


def test_twilio_call_without_machine_detection_asks_for_none():
    twilio_provider, http = twilio((201, {"sid": CALL_SID}))

    twilio_provider.place_call(call_request(machine_detection=False))

    assert not {"MachineDetection", "AsyncAmd", "AsyncAmdStatusCallback"} & set(http.sent[0].data)


def test_a_call_that_would_ring_less_than_20_seconds_is_refused_before_dialling(either_provider):
    with pytest.raises(ProviderError, match="at least 20 s") as refused:
        either_provider.provider.place_call(call_request(ring_timeout_seconds=15))

    assert refused.value.permanent
    assert either_provider.dialled() == []


@pytest.mark.obligation("P50")
def test_a_call_without_a_caller_id_is_refused(either_provider):
    with pytest.raises(ProviderError, match="caller ID") as refused:
        either_provider.provider.place_call(call_request(caller_id=""))

    assert refused.value.permanent
    assert either_provider.dialled() == []


def test_instructions_longer_than_twilio_takes_are_refused():
    twilio_provider, http = twilio()

    with pytest.raises(ProviderError, match="at most 4000") as refused:
        twilio_provider.place_call(call_request(instructions="<Response>" + "x" * 4000 + "</Response>"))

    assert refused.value.permanent
    assert http.sent == []


@pytest.mark.obligation("P07")
def test_twilio_recording_starts_on_the_call_dual_channel_with_its_status_callback():
    twilio_provider, http = twilio((201, {"sid": RECORDING_SID, "call_sid": CALL_SID, "status": "in-progress"}))

    recording_sid = twilio_provider.start_recording(CALL_SID, status_callback=f"{BASE}/recording/7")

    assert recording_sid == RECORDING_SID
    [sent] = http.sent
    assert (sent.method, sent.url) == ("POST", f"{API}/Calls/{CALL_SID}/Recordings.json")
    assert sent.data == {
        "RecordingStatusCallback": f"{BASE}/recording/7",
        "RecordingStatusCallbackEvent": ["completed", "absent"],
        "RecordingStatusCallbackMethod": "POST",
        "RecordingChannels": "dual",
    }


def test_twilio_update_call_replaces_its_twiml_and_hang_up_completes_it():
    twilio_provider, http = twilio((200, {"sid": CALL_SID}), (200, {"sid": CALL_SID}))
    voicemail = twiml.message_then_hangup([script.information_message(CLIENT, CALLER_ID)])

    twilio_provider.update_call(CALL_SID, voicemail)
    twilio_provider.hang_up(CALL_SID)

    assert [(s.method, s.url, s.data) for s in http.sent] == [
        ("POST", f"{API}/Calls/{CALL_SID}.json", {"Twiml": voicemail}),
        ("POST", f"{API}/Calls/{CALL_SID}.json", {"Status": "completed"}),
    ]


@pytest.mark.obligation("P24")
def test_twilio_recording_is_fetched_as_dual_channel_wav_over_https_with_the_account_credentials():
    audio = b"RIFF\x00\xff\x80binary audio\x00"
    twilio_provider, http = twilio((200, audio))

    fetched = twilio_provider.fetch_recording(RECORDING_SID)

    assert (fetched.content, fetched.content_type) == (audio, "audio/wav")
    [sent] = http.sent
    assert (sent.method, sent.url, sent.params, sent.auth) == (
        "GET",
        f"{API}/Recordings/{RECORDING_SID}.wav",
        {"RequestedChannels": "2"},
        (ACCOUNT_SID, AUTH_TOKEN),
    )


def test_twilio_recording_missing_when_fetched_is_a_permanent_error():
    twilio_provider, _ = twilio((404, {"code": 20404, "message": "not found", "status": 404}))

    with pytest.raises(ProviderError) as failed:
        twilio_provider.fetch_recording(RECORDING_SID)

    assert failed.value.permanent


def test_twilio_recording_is_deleted_then_checked_gone():
    twilio_provider, http = twilio(
        (204, ""), (404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
    )

    twilio_provider.delete_recording(RECORDING_SID)
    exists = twilio_provider.recording_exists(RECORDING_SID)

    assert exists is False
    assert [(s.method, s.url) for s in http.sent] == [
        ("DELETE", f"{API}/Recordings/{RECORDING_SID}.json"),
        ("GET", f"{API}/Recordings/{RECORDING_SID}.json"),
    ]


def test_twilio_recording_still_there_is_reported_and_deleting_one_already_gone_is_not_an_error():
    twilio_provider, _ = twilio((200, {"sid": RECORDING_SID}), (404, {"code": 20404, "message": "gone", "status": 404}))

    assert twilio_provider.recording_exists(RECORDING_SID) is True
    twilio_provider.delete_recording(RECORDING_SID)


def test_twilio_recording_check_that_fails_is_not_taken_for_gone():
    twilio_provider, _ = twilio((503, {"code": 20503, "message": "unavailable", "status": 503}))

    with pytest.raises(ProviderError) as failed:
        twilio_provider.recording_exists(RECORDING_SID)

    assert not failed.value.permanent


def test_twilio_caller_id_validation_request_returns_the_code_to_key_in():
    twilio_provider, http = twilio((201, {"account_sid": ACCOUNT_SID, "call_sid": CALL_SID, "validation_code": "123456"}))

    validation = twilio_provider.validate_caller_id(
        CALLER_ID, friendly_name="Customer line", status_callback=f"{BASE}/caller_id/3"
    )

    assert (validation.code, validation.reference) == ("123456", CALL_SID)
    [sent] = http.sent
    assert (sent.method, sent.url) == ("POST", f"{API}/OutgoingCallerIds.json")
    assert sent.data == {
        "PhoneNumber": CALLER_ID,
        "FriendlyName": "Customer line",
        "StatusCallback": f"{BASE}/caller_id/3",
        "StatusCallbackMethod": "POST",
    }


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # invalid 'To' number
        (400, 21214, True),  # 'To' number cannot be reached
        (400, 13223, True),  # invalid phone number format
        (403, 21215, True),  # the account may not call this country
        (401, 20003, True),  # bad credentials
        (429, 20429, False),  # too many requests
        (500, 20500, False),
        (503, None, False),
    ],
)
def test_twilio_errors_become_provider_errors_permanent_only_when_retrying_cannot_help(status, code, permanent):
    twilio_provider, _ = twilio((status, {"code": code, "message": "refused", "status": status}))

    with pytest.raises(ProviderError) as failed:
        twilio_provider.place_call(call_request())

    assert failed.value.permanent is permanent
    assert failed.value.code == (str(code) if code else "")


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"), requests.Timeout("slow")])
def test_twilio_unreachable_is_a_transient_provider_error(failure):
    twilio_provider, _ = twilio(failure)

    with pytest.raises(ProviderError) as failed:
        twilio_provider.hang_up(CALL_SID)

    assert not failed.value.permanent


def test_twilio_is_not_offered_without_credentials(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        TwilioProvider()


@contextlib.contextmanager
def local_server(answer):
    """A real HTTP server on 127.0.0.1: `answer(url, params, headers, method) -> (status, content_type, bytes)`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            params = dict(parse_qsl(body, keep_blank_values=True))
            url = f"http://127.0.0.1:{server.server_port}{self.path}"
            status, content_type, content = answer(url, params, dict(self.headers), self.command)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_default_http_client_keeps_a_recordings_bytes_which_the_sdks_own_would_garble():
    audio = bytes(range(256)) * 4
    with local_server(lambda url, params, headers, method: (200, "audio/x-wav", audio)) as base:
        ours = BytesHttpClient(timeout=5).request("GET", f"{base}/Recordings/{RECORDING_SID}.wav")
        sdks = TwilioHttpClient(timeout=5).request("GET", f"{base}/Recordings/{RECORDING_SID}.wav")

    assert ours.content == audio
    assert isinstance(sdks.content, str)  # decoded text, not the audio: why BytesHttpClient exists


# --- Webhook signatures ----------------------------------------------------------


STATUS_PARAMS = {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "CallStatus": "ringing", "SequenceNumber": "1"}


def test_a_webhook_signed_with_the_sdks_validator_verifies():
    url = f"{BASE}/status/7"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, STATUS_PARAMS)

    assert twilio()[0].verify_webhook(url=url, params=STATUS_PARAMS, signature=signature)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda url, params: ("", url, params), id="unsigned"),
        pytest.param(
            lambda url, params: (RequestValidator("another-token").compute_signature(url, params), url, params), id="other-token"
        ),
        pytest.param(
            lambda url, params: (
                RequestValidator(AUTH_TOKEN).compute_signature(url, params),
                url,
                {**params, "CallStatus": "completed"},
            ),
            id="params-changed",
        ),
        pytest.param(
            lambda url, params: (RequestValidator(AUTH_TOKEN).compute_signature(url, params), f"{BASE}/status/8", params),
            id="other-url",
        ),
    ],
)
def test_a_webhook_unsigned_or_wrongly_signed_does_not_verify(tamper):
    signature, url, params = tamper(f"{BASE}/status/7", STATUS_PARAMS)

    assert not twilio()[0].verify_webhook(url=url, params=params, signature=signature)


def test_verification_uses_the_public_url_not_the_one_the_request_arrived_at(settings, either_provider):
    # given a webhook the provider signed for our public address, arriving at an internal one behind the proxy
    settings.TELEPHONY_WEBHOOK_BASE_URL = "https://calls.nextsupport.example/"
    path = "/telephony/status/7?attempt=2"
    signature = RequestValidator(either_provider.token).compute_signature(
        f"https://calls.nextsupport.example{path}", STATUS_PARAMS
    )
    request = RequestFactory().post(path, STATUS_PARAMS, HTTP_HOST="localhost:8000", HTTP_X_TWILIO_SIGNATURE=signature)
    verify = either_provider.provider.verify_webhook

    # then it verifies against the public URL of its path, with Django's QueryDict as the params
    public = webhook_url(request.get_full_path())
    assert public == f"https://calls.nextsupport.example{path}"
    assert verify(url=public, params=request.POST, signature=request.headers["X-Twilio-Signature"])
    # and not against the address the request arrived at
    assert not verify(url=request.build_absolute_uri(), params=request.POST, signature=signature)


def test_simulator_signs_with_its_setting_or_a_secret_derived_from_secret_key(settings):
    settings.TELEPHONY_SIMULATOR_AUTH_TOKEN = ""
    derived = simulator.auth_token()
    settings.TELEPHONY_SIMULATOR_AUTH_TOKEN = "simulator-token"

    assert derived == salted_hmac("campaigns.telephony.simulator", "auth token", algorithm="sha256").hexdigest()
    assert simulator.auth_token() == "simulator-token"
    url = f"{BASE}/status/7"
    assert SimulatorProvider().verify_webhook(
        url=url, params=STATUS_PARAMS, signature=RequestValidator("simulator-token").compute_signature(url, STATUS_PARAMS)
    )
    assert not SimulatorProvider().verify_webhook(
        url=url, params=STATUS_PARAMS, signature=RequestValidator(derived).compute_signature(url, STATUS_PARAMS)
    )


# --- TwiML ---------------------------------------------------------------------


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


# --- Webhook parameters as CallEvents ------------------------------------------


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


def test_both_providers_parse_with_the_same_parser(either_provider):
    event = either_provider.provider.parse_event("dial", {"CallSid": CALL_SID, "DialCallStatus": "completed"})

    assert event.dial_status == "completed"


# --- The chooser -----------------------------------------------------------------


def test_the_simulator_is_the_provider_without_twilio_credentials(settings):
    settings.TELEPHONY_PROVIDER = ""

    assert isinstance(provider(), SimulatorProvider)
    assert available_providers() == ["simulator"]
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        provider("twilio")


def test_twilio_is_the_provider_once_its_credentials_are_set(settings):
    settings.TELEPHONY_PROVIDER = ""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN

    assert isinstance(provider(), TwilioProvider)
    assert isinstance(provider("simulator"), SimulatorProvider)
    # With Twilio in use, the simulator's webhooks are not accepted beside it, except on a developer machine.
    assert available_providers() == ["twilio"]
    settings.DEBUG = True
    assert available_providers() == ["twilio", "simulator"]


def test_the_configured_provider_wins_and_an_unknown_one_is_refused(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TELEPHONY_PROVIDER = "simulator"

    assert isinstance(provider(), SimulatorProvider)
    with pytest.raises(ImproperlyConfigured, match="Unknown telephony provider 'carrier-pigeon'"):
        provider("carrier-pigeon")


# --- The simulator -----------------------------------------------------------------


@dataclasses.dataclass
class Webhook:
    url: str
    params: dict
    headers: dict

    @property
    def kind(self) -> str:
        return urlsplit(self.url).path.split("/")[-2]  # .../<kind>/<call id>

    @property
    def label(self) -> str:
        detail = self.params.get("CallStatus") if self.kind == "status" else self.params.get("AnsweredBy")
        return f"{self.kind}:{detail}" if detail else self.kind


class FakePlatform:
    """The platform's webhooks for one call, answered as the real views will: TwiML from twiml.py and
    campaigns.script, provider calls where the platform would make them. Records every webhook."""

    def __init__(self, base: str = BASE, *, hang_up_on_first_answer: bool = False):
        self.base = base
        self.callbacks = callbacks(base)
        self.provider = SimulatorProvider()
        self.webhooks: list[Webhook] = []
        self.step = 0
        self.empty_answers = 0
        self.recording_sid = ""
        self.hang_up_on_first_answer = hang_up_on_first_answer

    def __call__(self, url: str, params: dict, headers: dict) -> tuple[int, str]:
        webhook = Webhook(url, dict(params), dict(headers))
        self.webhooks.append(webhook)
        return 200, getattr(self, webhook.kind)(webhook.params)

    def labels(self) -> list[str]:
        return [webhook.label for webhook in self.webhooks]

    def of_kind(self, kind: str) -> list[dict]:
        return [webhook.params for webhook in self.webhooks if webhook.kind == kind]

    def status(self, params):
        return ""

    def machine_detection(self, params):
        if params["AnsweredBy"] == "machine_start":
            self.provider.update_call(
                params["CallSid"], twiml.message_then_hangup([script.information_message(CLIENT, CALLER_ID)])
            )
        return ""

    def after_notice(self, params):
        # Recording starts only now, once the notice has been spoken (P07).
        self.recording_sid = self.provider.start_recording(params["CallSid"], status_callback=self.callbacks.recording)
        return twiml.opening_twiml([script.options(CLIENT)], gather_action=self.callbacks.turn, question=[QUESTIONS[0]])

    def turn(self, params):
        heard, digits = params.get("SpeechResult", "").lower(), params.get("Digits", "")
        if self.hang_up_on_first_answer:
            self.provider.hang_up(params["CallSid"])
        if "stop" in heard or digits == script.STOP_DIGIT:
            return twiml.message_then_hangup([script.opt_out_confirmation(CLIENT)])
        if "person" in heard or digits == script.PERSON_DIGIT:
            return twiml.turn_twiml(
                [script.transfer_notice(CLIENT)],
                twiml.TRANSFER,
                transfer_to=TRANSFER_TO,
                caller_id=CALLER_ID,
                dial_action=self.callbacks.dial,
            )
        if not heard and not digits:
            return self._reprompt()
        self.step += 1
        if self.step < len(QUESTIONS):
            return twiml.turn_twiml([QUESTIONS[self.step]], twiml.LISTEN, gather_action=self.callbacks.turn)
        return twiml.turn_twiml([script.GOODBYE], twiml.HANG_UP)

    def _reprompt(self):
        self.empty_answers += 1
        if self.empty_answers > 1:
            return twiml.turn_twiml([script.GOODBYE], twiml.HANG_UP)
        return twiml.turn_twiml([script.NOT_UNDERSTOOD, QUESTIONS[self.step]], twiml.LISTEN, gather_action=self.callbacks.turn)

    def dial(self, params):
        if params["DialCallStatus"] == "completed":
            return twiml.message_then_hangup([])
        return twiml.message_then_hangup([script.transfer_failed(CLIENT, CALLER_ID)])

    def fallback(self, params):
        return twiml.message_then_hangup([script.information_message(CLIENT, CALLER_ID)])

    def recording(self, params):
        return ""

    def caller_id(self, params):
        return ""


def play(persona: Persona, *, platform: FakePlatform | None = None, **request) -> tuple[FakePlatform, str]:
    platform = platform or FakePlatform()
    sid = platform.provider.place_call(call_request(example_number(persona), **request))
    simulator.play_call(sid, transport=platform)
    return platform, sid


def agent_lines(sid: str) -> list[str]:
    return [segment["text"] for segment in simulator.call_state(sid)["transcript"] if segment["speaker"] == "agent"]


def assert_all_signed(platform: FakePlatform) -> None:
    validator = RequestValidator(simulator.auth_token())
    for webhook in platform.webhooks:
        assert validator.validate(webhook.url, webhook.params, webhook.headers["X-Twilio-Signature"]), webhook.url
        assert platform.provider.verify_webhook(
            url=webhook.url, params=webhook.params, signature=webhook.headers["X-Twilio-Signature"]
        )


def moment(params: dict):
    return email.utils.parsedate_to_datetime(params["Timestamp"])


@pytest.mark.parametrize(
    ("last_two", "persona"),
    [
        ("00", Persona.COOPERATIVE),
        ("39", Persona.COOPERATIVE),
        ("40", Persona.VOICEMAIL),
        ("52", Persona.BUSY),
        ("57", Persona.NO_ANSWER),
        ("61", Persona.STOP),
        ("66", Persona.PERSON_ANSWERED),
        ("73", Persona.PERSON_UNANSWERED),
        ("75", Persona.HANGS_UP),
        ("84", Persona.SILENCE),
        ("85", Persona.FAULT),
        ("99", Persona.KEYPAD),
    ],
)
def test_persona_is_chosen_by_the_dialled_numbers_last_two_digits(last_two, persona):
    assert persona_for(f"+44 7700 900 1{last_two}") == persona


@pytest.mark.parametrize("persona", list(Persona))
def test_every_persona_has_example_numbers_it_answers(persona):
    numbers = {example_number(persona, index) for index in range(10)}

    assert len(numbers) == 10
    assert {persona_for(number) for number in numbers} == {persona}


@pytest.mark.obligation("P50")
def test_cooperative_person_answers_each_question_after_the_answered_callback():
    platform, sid = play(Persona.COOPERATIVE)

    assert platform.labels() == [
        "status:initiated",
        "status:ringing",
        "status:in-progress",
        "machine_detection:human",
        "turn",
        "turn",
        "status:completed",
    ]
    assert [turn["SpeechResult"] for turn in platform.of_kind("turn")] == ["yes", "yes"]
    assert all(webhook.params["From"] == CALLER_ID for webhook in platform.webhooks)  # the caller ID shown (P50)
    assert all(webhook.params["CallSid"] == sid for webhook in platform.webhooks)
    assert_all_signed(platform)


def test_simulator_reports_status_like_twilio_sequence_timestamps_and_duration():
    platform, sid = play(Persona.COOPERATIVE)

    statuses = platform.of_kind("status")
    assert [status["SequenceNumber"] for status in statuses] == ["0", "1", "2", "3"]
    times = [moment(status) for status in statuses]
    assert times == sorted(times) and all(time.tzinfo for time in times)
    completed = statuses[-1]
    answered = moment(statuses[2])
    assert int(completed["CallDuration"]) == pytest.approx((moment(completed) - answered).total_seconds(), abs=1)
    assert int(completed["CallDuration"]) == simulator.call_state(sid)["duration"] > 10
    assert all("CallDuration" not in status for status in statuses[:-1])
    assert parse_event("status", completed).status == Call.Status.COMPLETED


def test_machine_detection_result_arrives_while_the_opening_plays():
    platform, _ = play(Persona.COOPERATIVE)

    [detection] = platform.of_kind("machine_detection")
    assert parse_event("machine_detection", detection).answered_by == "human"
    assert int(detection["MachineDetectionDuration"]) > 0


def test_keypad_person_presses_the_digit_the_question_offers():
    platform, _ = play(Persona.KEYPAD)

    # The first question offers "press 1 for yes"; the second offers no digit, so it is answered by voice.
    assert [(turn.get("Digits"), turn.get("SpeechResult")) for turn in platform.of_kind("turn")] == [("1", None), (None, "yes")]


def test_voicemail_is_detected_and_plays_the_message_the_platform_replaces_the_call_with():
    platform, sid = play(Persona.VOICEMAIL)

    assert platform.labels() == [
        "status:initiated",
        "status:ringing",
        "status:in-progress",
        "machine_detection:machine_start",
        "status:completed",
    ]
    assert agent_lines(sid) == [script.disclosure(CLIENT), script.information_message(CLIENT, CALLER_ID)]


def test_busy_line_reports_busy_and_nothing_else():
    platform, _ = play(Persona.BUSY)

    assert platform.labels() == ["status:initiated", "status:busy"]
    assert "CallDuration" not in platform.of_kind("status")[-1]


def test_no_answer_rings_for_the_whole_ring_timeout():
    platform, _ = play(Persona.NO_ANSWER, ring_timeout_seconds=25)

    assert platform.labels() == ["status:initiated", "status:ringing", "status:no-answer"]
    ringing, no_answer = platform.of_kind("status")[1:]
    assert (moment(no_answer) - moment(ringing)).total_seconds() == 25


def test_stop_calling_me_is_said_and_the_call_ends_with_the_confirmation():
    platform, sid = play(Persona.STOP)

    assert [turn["SpeechResult"] for turn in platform.of_kind("turn")] == ["Stop calling me."]
    assert agent_lines(sid)[-1] == script.opt_out_confirmation(CLIENT)
    assert platform.labels()[-1] == "status:completed"


@pytest.mark.obligation("P50")
def test_asking_for_a_person_is_transferred_and_the_transfer_answered():
    platform, sid = play(Persona.PERSON_ANSWERED)

    assert [turn["SpeechResult"] for turn in platform.of_kind("turn")] == ["Can I speak to a person, please?"]
    [dial] = platform.of_kind("dial")
    assert (dial["DialCallStatus"], dial["DialBridged"]) == ("completed", "true")
    assert int(dial["DialCallDuration"]) > 0
    call = simulator.call_state(sid)
    assert [(transfer["to"], transfer["caller_id"]) for transfer in call["transfers"]] == [(TRANSFER_TO, CALLER_ID)]
    assert any(segment["speaker"] == "staff" for segment in call["transcript"])


def test_asking_for_a_person_whom_nobody_answers_hears_the_platforms_apology():
    platform, sid = play(Persona.PERSON_UNANSWERED)

    [dial] = platform.of_kind("dial")
    assert (dial["DialCallStatus"], dial["DialCallDuration"]) == ("no-answer", "0")
    assert agent_lines(sid)[-1] == script.transfer_failed(CLIENT, CALLER_ID)


def test_person_who_hangs_up_mid_call_ends_it_while_the_agent_speaks():
    platform, sid = play(Persona.HANGS_UP)

    assert len(platform.of_kind("turn")) == 1
    assert platform.labels()[-1] == "status:completed"
    last = simulator.call_state(sid)["transcript"][-1]
    assert (last["speaker"], last["text"]) == ("agent", QUESTIONS[1])
    assert last["end"] - last["start"] < seconds_to_say(QUESTIONS[1])  # cut off half-way


def test_silence_sends_empty_gathers_each_after_the_gathers_timeout():
    platform, sid = play(Persona.SILENCE)

    turns = platform.of_kind("turn")
    assert len(turns) == 2
    assert all("SpeechResult" not in turn and "Digits" not in turn for turn in turns)
    assert parse_event("turn", turns[0]).speech == ""
    assert agent_lines(sid)[-1] == script.GOODBYE


def test_provider_fault_cannot_reach_the_turn_webhook_and_falls_back():
    platform, sid = play(Persona.FAULT)

    assert "turn" not in platform.labels()
    [fallback] = platform.of_kind("fallback")
    event = parse_event("fallback", fallback)
    assert (event.error_code, event.error_url, event.speech) == ("11200", f"{BASE}/turn/7", "yes")
    assert agent_lines(sid)[-1] == script.information_message(CLIENT, CALLER_ID)
    assert_all_signed(platform)


def test_webhook_that_errors_or_answers_no_twiml_gets_twilios_fallback_then_its_error_message():
    class Broken(FakePlatform):
        def __call__(self, url, params, headers):
            status, body = super().__call__(url, params, headers)
            if self.webhooks[-1].kind == "turn":
                return 500, "Internal Server Error"
            if self.webhooks[-1].kind == "fallback":
                return 200, "<html>not twiml</html>"
            return status, body

    platform, sid = play(Persona.COOPERATIVE, platform=Broken())

    [fallback] = platform.of_kind("fallback")
    assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("11200", f"{BASE}/turn/7")
    assert agent_lines(sid)[-1] == APPLICATION_ERROR
    assert platform.labels()[-1] == "status:completed"


def test_platform_hanging_up_ends_the_call_at_once():
    platform, _ = play(Persona.COOPERATIVE, platform=FakePlatform(hang_up_on_first_answer=True))

    assert len(platform.of_kind("turn")) == 1
    assert platform.labels()[-1] == "status:completed"


def test_platform_hanging_up_a_ringing_call_cancels_it():
    platform = FakePlatform()
    sid = platform.provider.place_call(call_request(example_number(Persona.COOPERATIVE)))
    platform.provider.hang_up(sid)

    simulator.play_call(sid, transport=platform)

    assert platform.labels() == ["status:initiated", "status:ringing", "status:canceled"]


def test_a_call_is_played_once_however_often_its_task_runs():
    platform, sid = play(Persona.COOPERATIVE)
    delivered = len(platform.webhooks)

    simulator.play_call(sid, transport=platform)

    assert len(platform.webhooks) == delivered


@pytest.mark.obligation("P07")
def test_recording_starts_when_the_platform_starts_it_after_the_notice_and_is_a_real_wav():
    # given a recorded campaign's call, whose opening hands back to the platform after the notice
    platform, sid = play(Persona.COOPERATIVE, record=True)

    # then the recording callback names the recording the platform started, once the call ended
    assert platform.labels()[-2:] == ["status:completed", "recording"]
    [callback] = platform.of_kind("recording")
    event = parse_event("recording", callback)
    assert (event.recording_sid, event.recording_status) == (platform.recording_sid, "completed")
    # and nothing said before the notice ended is in it: the recording began after it
    transcript = simulator.call_state(sid)["transcript"]
    notice = next(segment for segment in transcript if segment["text"] == script.RECORDING_NOTICE)
    call_ended = max(segment["end"] for segment in transcript)
    fetched = platform.provider.fetch_recording(event.recording_sid)
    with wave.open(io.BytesIO(fetched.content)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (2, 2, 8000)
        samples = audio.readframes(audio.getnframes())
    assert seconds == pytest.approx(call_ended - notice["end"], abs=0.1)
    assert event.recording_duration == pytest.approx(seconds, abs=1)
    assert any(samples) and fetched.content_type == "audio/wav"
    assert_all_signed(platform)


@pytest.mark.obligation("P07")
def test_nothing_is_recorded_unless_the_platform_starts_a_recording(simulator_files):
    platform, _ = play(Persona.COOPERATIVE)

    assert "recording" not in platform.labels()
    assert not list(simulator_files.glob("recordings/*.wav"))


@pytest.mark.obligation("P07")
def test_a_recording_started_as_the_call_ends_is_reported_absent_with_no_audio(simulator_files):
    class RecordsAtTheEnd(FakePlatform):
        def turn(self, params):
            self.recording_sid = self.provider.start_recording(params["CallSid"], status_callback=self.callbacks.recording)
            return twiml.turn_twiml([], twiml.HANG_UP)

    platform, _ = play(Persona.COOPERATIVE, platform=RecordsAtTheEnd())

    [callback] = platform.of_kind("recording")
    assert (callback["RecordingSid"], callback["RecordingStatus"]) == (platform.recording_sid, "absent")
    assert not list(simulator_files.glob("recordings/*.wav"))


@pytest.mark.obligation("P07")
def test_a_recording_cannot_start_before_the_call_is_answered():
    sid = SimulatorProvider().place_call(call_request())

    with pytest.raises(ProviderError, match="not in progress") as refused:
        SimulatorProvider().start_recording(sid, status_callback=f"{BASE}/recording/7")

    assert refused.value.permanent


def test_simulated_recording_is_deleted_and_checked_gone():
    platform, _ = play(Persona.COOPERATIVE, record=True)
    recordings = platform.provider

    assert recordings.recording_exists(platform.recording_sid)
    recordings.delete_recording(platform.recording_sid)
    assert not recordings.recording_exists(platform.recording_sid)
    with pytest.raises(ProviderError) as gone:
        recordings.fetch_recording(platform.recording_sid)
    assert gone.value.permanent


@pytest.mark.parametrize("sid", ["CA" + "0" * 32, "../../etc/passwd", "RE" + "0" * 32])
def test_simulator_refuses_commands_for_calls_it_does_not_have(sid):
    with pytest.raises(ProviderError) as refused:
        SimulatorProvider().update_call(sid, twiml.message_then_hangup(["Bye."]))

    assert refused.value.permanent


def test_a_call_that_ended_takes_no_new_instructions():
    _, sid = play(Persona.BUSY)

    with pytest.raises(ProviderError, match="not in progress"):
        SimulatorProvider().update_call(sid, twiml.message_then_hangup(["Bye."]))


def test_placing_a_call_queues_its_playing_on_the_simulator_queue(settings, monkeypatch):
    from campaigns import tasks

    settings.TELEPHONY_SIMULATOR_AUTORUN = True
    queued = []
    monkeypatch.setattr(tasks.simulate_call, "apply_async", lambda **kwargs: queued.append(kwargs))

    sid = SimulatorProvider().place_call(call_request())

    assert sid.startswith("CA") and len(sid) == 34
    assert queued == [{"args": [sid], "queue": "simulator"}]


def test_caller_id_validation_is_keyed_in_by_the_simulated_person(settings, monkeypatch):
    from campaigns import tasks

    settings.TELEPHONY_SIMULATOR_AUTORUN = True
    queued = []
    monkeypatch.setattr(tasks.simulate_caller_id_validation, "apply_async", lambda **kwargs: queued.append(kwargs))
    platform = FakePlatform()

    validation = platform.provider.validate_caller_id(
        CALLER_ID, friendly_name="Customer line", status_callback=f"{BASE}/caller_id/3"
    )
    simulator.play_caller_id_validation(validation.reference, transport=platform)
    simulator.play_caller_id_validation(validation.reference, transport=platform)

    assert len(validation.code) == 6 and validation.code.isdigit()
    assert queued == [{"args": [validation.reference], "queue": "simulator"}]
    [callback] = platform.of_kind("caller_id")
    event = parse_event("caller_id", callback)
    assert (event.call_sid, event.to_number, event.verification_status) == (validation.reference, CALLER_ID, "success")
    assert event.outgoing_caller_id_sid.startswith("PN")
    assert_all_signed(platform)


def test_caller_id_validation_fails_when_nobody_answers_to_key_the_code_in():
    platform = FakePlatform()
    number = example_number(Persona.NO_ANSWER)

    validation = platform.provider.validate_caller_id(number, friendly_name="Old line", status_callback=f"{BASE}/caller_id/3")
    simulator.play_caller_id_validation(validation.reference, transport=platform)

    [callback] = platform.of_kind("caller_id")
    assert (callback["VerificationStatus"], "OutgoingCallerIdSid" in callback) == ("failed", False)


def test_simulator_talks_to_the_platform_over_real_http_by_default():
    # given the fake platform behind a real HTTP server
    received = []

    def answer(url, params, headers, method):
        received.append((url, params, headers))
        status, body = platform(url, params, headers)
        return status, "text/xml", body.encode()

    with local_server(answer) as base:
        platform = FakePlatform(base)
        sid = platform.provider.place_call(call_request(example_number(Persona.COOPERATIVE), base=base))

        # when the call is played with the default transport
        simulator.play_call(sid)

    # then every webhook arrived, form-encoded and verifiably signed for the URL it was posted to
    assert platform.labels()[-1] == "status:completed"
    assert len(received) == 7
    validator = RequestValidator(simulator.auth_token())
    assert all(validator.validate(url, params, headers["X-Twilio-Signature"]) for url, params, headers in received)
