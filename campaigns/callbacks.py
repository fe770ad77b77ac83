"""The public addresses of the platform's telephony webhooks.

Providers are given absolute URLs under settings.TELEPHONY_WEBHOOK_BASE_URL,
and their signatures are computed over exactly those URLs, so the webhook
views check signatures against the same base, never against whatever host
and scheme the request seems to have arrived on behind a proxy.
"""

from django.urls import reverse

from .telephony import webhook_url
from .telephony.base import CallbackUrls


def url_for(name: str, **kwargs) -> str:
    return webhook_url(reverse(f"telephony:{name}", kwargs=kwargs))


def callback_urls(call_id: int) -> CallbackUrls:
    return CallbackUrls(
        status=url_for("call-status", call_id=call_id),
        machine_detection=url_for("call-machine", call_id=call_id),
        turn=url_for("call-turn", call_id=call_id),
        fallback=url_for("call-fallback", call_id=call_id),
        recording=url_for("call-recording", call_id=call_id),
        dial=url_for("call-dial", call_id=call_id),
    )
