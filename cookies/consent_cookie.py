"""The first-party cookie that remembers a visitor's choice (strictly necessary).

    1.<consent id hex>.<categories joined by '+', or '-'>.<policy version>.<unix time>.<gpc 0/1>.<seal>

Read by consent.js (so it is not HttpOnly) and set only by the server, so it
lives its full 12 months in browsers that cap script-set cookies.

The seal is a keyed hash of the consent id. The id is no secret (visitors quote
it to us), so only a cookie we sealed lets a later choice continue that id's
proof; a cookie written by hand, or one from before seals, starts a new id.
"""

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import ConsentRecord
from .services import CONSENT_MAX_AGE

NAME = "ns_consent"


def value(record: ConsentRecord) -> str:
    categories = "+".join(record.categories) or "-"
    stamp = int(record.created_at.timestamp())
    consent_hex = record.consent_id.hex
    return f"1.{consent_hex}.{categories}.{record.policy_version}.{stamp}.{int(record.gpc)}.{_seal(consent_hex)}"


def _seal(consent_hex: str) -> str:
    return salted_hmac("cookies.consent_cookie", consent_hex, algorithm="sha256").hexdigest()[:20]


def consent_id_hex(cookie_value: str | None) -> str:
    """The consent id a visitor's cookie holds, if we sealed it ('' otherwise)."""
    parts = (cookie_value or "").split(".")
    if len(parts) != 7 or parts[0] != "1" or not constant_time_compare(parts[6], _seal(parts[1])):
        return ""
    return parts[1]


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
