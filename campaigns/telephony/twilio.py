"""Twilio, the real phone network, through its official SDK: the only module that imports its REST client.

Every call is placed with its opening as inline TwiML (the first audio plays the
moment the person answers, Ofcom's 2 s), status callbacks for each stage,
asynchronous answering-machine detection and a ring time of at least 20 s.
Twilio's failures become ProviderError: permanent for what retrying cannot fix
(a 4xx: an invalid or unreachable number, a country the account may not call,
bad credentials), transient for the rest (a 5xx, 429, a network failure).

Fallbacks, as found in the SDK (9.x): `calls.create` accepts `fallback_url` next
to inline `twiml` and sends both (FallbackUrl, Twiml), so we send it; but the SDK
and Twilio's documentation describe it only for "the TwiML at url", and Twilio
documents fallback URLs as a setting of incoming phone numbers. So for outbound
calls it is best effort: if Twilio ignores it when a gather's action fails, the
call ends with Twilio's error message and the completed status callback still
tells the platform. For calls back to a caller ID, set the number's Voice
Fallback URL (the inbound number's configuration) to the fallback webhook.
"""

import contextlib
import logging

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from . import parsing
from .base import (
    CallerIdValidation,
    CallEvent,
    CallRequest,
    FetchedRecording,
    Provider,
    ProviderError,
    check_call_request,
    check_instructions,
    check_sms,
)

logger = logging.getLogger(__name__)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# The SDK documents in-progress, completed and absent as a recording's callback
# events, and its recording statuses have no "failed" (a failed recording is
# "absent"); Twilio warns (13621) about events it does not know, so we ask for
# the two that end a recording.
RECORDING_EVENTS = ["completed", "absent"]
REST_TIMEOUT_SECONDS = 10
# 4xx answers worth retrying: too many requests, a request that timed out, a conflict with a call in flux.
_TRANSIENT_CLIENT_ERRORS = frozenset({408, 409, 429})


class BytesHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, except that a response keeps its body as bytes.

    The SDK's own client keeps `requests`' decoded text, which garbles a
    recording's audio; JSON answers are still read as text (`.text`).
    """

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        body = "json" if (headers or {}).get("Content-Type", "").endswith("json") else "data"
        self.log_request({"method": method.upper(), "url": url, "params": params, "headers": headers})
        response = (self.session or requests.Session()).request(
            method.upper(),
            url,
            params=params,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            allow_redirects=allow_redirects,
            proxies=self.proxy or None,
            **{body: data},
        )
        self.log_response(response.status_code, response)
        return BytesResponse(response.status_code, response.content, response.headers)


class BytesResponse(Response):
    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, *, account_sid: str = "", auth_token: str = "", http_client=None):
        account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        if not (account_sid and auth_token):
            raise ImproperlyConfigured("Twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; without them it is not offered.")
        self._account_sid = account_sid
        self._client = Client(account_sid, auth_token, http_client=http_client or BytesHttpClient(timeout=REST_TIMEOUT_SECONDS))
        self._validator = RequestValidator(auth_token)

    def place_call(self, request: CallRequest) -> str:
        with _provider_errors():
            call = self._client.calls.create(**call_parameters(request))
        return call.sid

    def update_call(self, call_sid: str, instructions: str) -> None:
        check_instructions(instructions)
        with _provider_errors():
            self._client.calls(call_sid).update(twiml=instructions)

    def hang_up(self, call_sid: str) -> None:
        # "completed" ends a call in any state (a ringing one is cancelled); "canceled" would leave a live one up.
        with _provider_errors():
            self._client.calls(call_sid).update(status="completed")

    def start_recording(self, call_sid: str, *, status_callback: str) -> str:
        with _provider_errors():
            recording = self._client.calls(call_sid).recordings.create(
                recording_status_callback=status_callback,
                recording_status_callback_event=RECORDING_EVENTS,
                recording_status_callback_method="POST",
                # The agent and the person on separate channels: a review can tell who said what.
                recording_channels="dual",
            )
        return recording.sid

    def verify_webhook(self, *, url: str, params: dict, signature: str) -> bool:
        return bool(signature) and self._validator.validate(url, params, signature)

    def parse_event(self, kind: str, params: dict) -> CallEvent:
        return parsing.parse_event(kind, params)

    def fetch_recording(self, recording_sid: str) -> FetchedRecording:
        with _provider_errors():
            # Without RequestedChannels=2 Twilio mixes a dual-channel recording down to mono.
            response = self._client.request("GET", self._media_url(recording_sid), params={"RequestedChannels": "2"})
        _raise_for_status(response.status_code, f"Recording {recording_sid} could not be fetched")
        if not isinstance(response.content, bytes):
            raise ProviderError("The HTTP client decoded the recording's audio as text; use BytesHttpClient.", permanent=True)
        return FetchedRecording(content=response.content, content_type="audio/wav")

    def delete_recording(self, recording_sid: str) -> None:
        with _provider_errors():
            try:
                self._client.recordings(recording_sid).delete()
            except TwilioRestException as error:
                # Already gone is what deleting it wanted (a retry after a crash between delete and check).
                if error.status != 404:
                    raise

    def recording_exists(self, recording_sid: str) -> bool:
        with _provider_errors():
            try:
                self._client.recordings(recording_sid).fetch()
            except TwilioRestException as error:
                if error.status == 404:
                    return False
                raise
        return True

    def validate_caller_id(self, number: str, *, friendly_name: str, status_callback: str) -> CallerIdValidation:
        with _provider_errors():
            validation = self._client.validation_requests.create(
                phone_number=number,
                friendly_name=friendly_name[:64],
                status_callback=status_callback,
                status_callback_method="POST",
            )
        return CallerIdValidation(code=validation.validation_code, reference=validation.call_sid or "")

    def send_sms(self, to: str, body: str) -> str:
        check_sms(to, body)
        if not settings.TELEPHONY_SMS_FROM:
            raise ProviderError("Text messages need TELEPHONY_SMS_FROM, the platform's own number.", permanent=True)
        with _provider_errors():
            message = self._client.messages.create(to=to, from_=settings.TELEPHONY_SMS_FROM, body=body)
        return message.sid

    def _media_url(self, recording_sid: str) -> str:
        return self._client.api.v2010.absolute_url(f"Accounts/{self._account_sid}/Recordings/{recording_sid}.wav")


def call_parameters(request: CallRequest) -> dict:
    """What `calls.create` is given for `request`, checked first: Twilio would dial before we learnt it was wrong."""
    check_call_request(request)
    parameters = {
        "to": request.to,
        "from_": request.caller_id,
        "twiml": request.instructions,
        "status_callback": request.callbacks.status,
        "status_callback_event": STATUS_EVENTS,
        "status_callback_method": "POST",
        "timeout": request.ring_timeout_seconds,
    }
    if request.callbacks.fallback:
        parameters.update(fallback_url=request.callbacks.fallback, fallback_method="POST")
    if request.machine_detection:
        parameters.update(
            machine_detection="Enable",
            # The SDK sends the value as given and Twilio reads "true": Python's True would arrive as "True".
            async_amd="true",
            async_amd_status_callback=request.callbacks.machine_detection,
            async_amd_status_callback_method="POST",
        )
    return parameters


@contextlib.contextmanager
def _provider_errors():
    """Twilio's and the network's failures as ProviderError, permanent when retrying cannot help."""
    try:
        yield
    except TwilioRestException as error:
        code = str(error.code or "")
        raise ProviderError(
            f"Twilio refused the request ({error.status}, code {code}): {error.msg}",
            permanent=_is_permanent(error.status),
            code=code,
        ) from error
    except requests.RequestException as error:
        raise ProviderError(f"Twilio could not be reached: {error}", permanent=False) from error
    except TwilioException as error:
        raise ProviderError(f"The Twilio SDK failed: {error}", permanent=False) from error


def _raise_for_status(status: int, message: str) -> None:
    if status >= 400:
        raise ProviderError(f"{message} (HTTP {status}).", permanent=_is_permanent(status))


def _is_permanent(status: int) -> bool:
    return 400 <= status < 500 and status not in _TRANSIENT_CLIENT_ERRORS
