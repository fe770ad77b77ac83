"""The first-party cookie that remembers a visitor's choice (strictly necessary).

    1.<consent id hex>.<categories joined by '+', or '-'>.<policy version>.<unix time>.<gpc 0/1>

Read by consent.js (so it is not HttpOnly) and set only by the server, so it
lives its full 12 months in browsers that cap script-set cookies.
"""

from django.conf import settings

from .models import ConsentRecord
from .services import CONSENT_MAX_AGE

NAME = "ns_consent"


def value(record: ConsentRecord) -> str:
    categories = "+".join(record.categories) or "-"
    stamp = int(record.created_at.timestamp())
    return f"1.{record.consent_id.hex}.{categories}.{record.policy_version}.{stamp}.{int(record.gpc)}"


def consent_id_hex(cookie_value: str | None) -> str:
    """The consent id a visitor's cookie holds ('' when there is no well-formed cookie)."""
    parts = (cookie_value or "").split(".")
    return parts[1] if len(parts) == 6 and parts[0] == "1" else ""


def attach(response, record: ConsentRecord, *, secure: bool) -> None:
    response.set_cookie(
        NAME,
        value(record),
        max_age=int(CONSENT_MAX_AGE.total_seconds()),
        path="/",
        secure=secure or settings.SESSION_COOKIE_SECURE,
        httponly=False,
        samesite="Lax",
    )
