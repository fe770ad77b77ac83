"""How the simulated network reaches the platform: Twilio-shaped webhooks, signed like Twilio's."""

import logging
from collections.abc import Callable

import requests
from django.conf import settings
from django.utils.crypto import salted_hmac
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

# transport(url, params, headers) -> (status, body): a real POST by default, a test client in tests.
Transport = Callable[[str, dict, dict], tuple[int, str]]

# Twilio waits 15 s for a webhook's answer before it gives up on it.
WEBHOOK_TIMEOUT_SECONDS = 15
# Derives the simulator's secrets from SECRET_KEY: fixed, so they survive a refactoring of the modules.
KEY_SALT = "campaigns.telephony.simulator"


def auth_token() -> str:
    """The simulator's webhook-signing secret: the setting, or one derived from SECRET_KEY (stable per deployment)."""
    return settings.TELEPHONY_SIMULATOR_AUTH_TOKEN or salted_hmac(KEY_SALT, "auth token", algorithm="sha256").hexdigest()


def account_sid() -> str:
    return "AC" + salted_hmac(KEY_SALT, "account", algorithm="sha256").hexdigest()[:32]


def sign(url: str, params: dict) -> str:
    return RequestValidator(auth_token()).compute_signature(url, params)


def send(transport: Transport, url: str, params: dict) -> tuple[int | None, str]:
    """POST a signed webhook; (None, "") when it could not be delivered at all."""
    headers = {
        "X-Twilio-Signature": sign(url, params),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1 (NextSupport simulator)",
    }
    try:
        status, body = transport(url, params, headers)
    except (requests.RequestException, OSError) as error:
        logger.warning("Simulator: the webhook %s could not be delivered: %s", url, error)
        return None, ""
    if not 200 <= status < 300:
        logger.warning("Simulator: the webhook %s answered %s.", url, status)
    return status, body


def http_transport(url: str, params: dict, headers: dict) -> tuple[int, str]:
    """The default transport: a real POST to the platform, as Twilio makes it."""
    response = requests.post(url, data=params, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
    return response.status_code, response.text
