"""The first-party cookie that remembers a visitor's choice (strictly necessary).

    1.<consent id hex>.<categories joined by '+', or '-'>.<policy version>.<unix time>.<gpc 0/1>.<seal>

Read by consent.js (so it is not HttpOnly) and set only by the server, so it
lives its full 12 months in browsers that cap script-set cookies.

The seal is a keyed hash of the consent id. The id is no secret (visitors quote
it to us), so only a cookie we sealed lets a later choice continue that id's
proof; a cookie written by hand, or one from before seals, starts a new id.
"""

import hashlib
import hmac
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare

from .models import ConsentRecord
from .services import CONSENT_MAX_AGE

NAME = "ns_consent"


def value(record: ConsentRecord) -> str:
    categories = "+".join(record.categories) or "-"
    stamp = int(record.created_at.timestamp())
    consent_hex = record.consent_id.hex
    return f"1.{consent_hex}.{categories}.{record.policy_version}.{stamp}.{int(record.gpc)}.{_seal(consent_hex)}"


def _seal(consent_hex: str) -> str:
    sealer = _sealer().copy()
    sealer.update(consent_hex.encode())
    return sealer.hexdigest()[:20]


@cache
def _sealer():
    # django.utils.crypto.salted_hmac("cookies.consent_cookie", ..., algorithm="sha256"), with its
    # key derived once per process instead of on every first visit.
    key = hashlib.sha256(b"cookies.consent_cookie" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


@receiver(setting_changed)
def _forget_sealer(*, setting, **kwargs):
    if setting == "SECRET_KEY":
        _sealer.cache_clear()


def consent_id_hex(cookie_value: str | None) -> str:
    """The consent id a visitor's cookie holds, if we sealed it ('' otherwise)."""
    parts = (cookie_value or "").split(".")
    if len(parts) != 7 or parts[0] != "1" or not constant_time_compare(parts[6], _seal(parts[1])):
        return ""
    return parts[1]


_MAX_AGE = int(CONSENT_MAX_AGE.total_seconds())


def attach(response, record: ConsentRecord, *, secure: bool) -> None:
    # Max-Age alone: every browser we support honours it, and response.set_cookie would also
    # format an Expires date, which costs more than the rest of the cookie on this hot path.
    response.cookies[NAME] = value(record)
    morsel = response.cookies[NAME]
    morsel["max-age"] = _MAX_AGE
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if secure or settings.SESSION_COOKIE_SECURE:
        morsel["secure"] = True
