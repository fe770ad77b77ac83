"""Which telephony provider places the platform's calls, and the public address of its webhooks.

`provider()` is the configured one: settings.TELEPHONY_PROVIDER, or Twilio when
its credentials are set, else the simulator. `provider(name)` is a given one,
for the webhooks and recordings of a call placed with it (`Call.provider`).
Twilio is offered only with its credentials.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import Provider

SIMULATOR = "simulator"
TWILIO = "twilio"


def provider(name: str | None = None) -> Provider:
    name = name or configured_name()
    if name == TWILIO:
        if not twilio_configured():
            raise ImproperlyConfigured(
                "The Twilio provider was asked for, but TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not both set."
            )
        from .twilio import TwilioProvider

        return TwilioProvider()
    if name == SIMULATOR:
        from .simulator import SimulatorProvider

        return SimulatorProvider()
    raise ImproperlyConfigured(f"Unknown telephony provider {name!r}: choose {TWILIO!r} or {SIMULATOR!r}.")


def configured_name() -> str:
    return settings.TELEPHONY_PROVIDER or (TWILIO if twilio_configured() else SIMULATOR)


def available_providers() -> list[str]:
    """The providers whose webhooks are accepted here: Twilio with its credentials; the simulator
    when it is the configured provider or on a developer machine (never beside Twilio in production)."""
    names = [TWILIO] if twilio_configured() else []
    if configured_name() == SIMULATOR or settings.DEBUG:
        names.append(SIMULATOR)
    return names


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def webhook_url(path: str) -> str:
    """The public URL of a webhook `path` (with its query string): what providers post to and sign.

    Behind a proxy the request's own host is an internal one, so a signature is
    always checked against this, never against request.build_absolute_uri().
    """
    return settings.TELEPHONY_WEBHOOK_BASE_URL.rstrip("/") + "/" + path.lstrip("/")
