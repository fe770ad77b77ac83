"""Short-lived links to hear a call's recording (P13, P24).

A call's page gives a member who may hear recordings a link signed for that
recording and that member, valid for PRIVATE_URL_EXPIRY_SECONDS. A link that
is copied, kept or changed stops working: expired after its time, refused if
tampered with or opened by someone else. The view that plays it checks the
member's capability again, and each playback is audited by
`calls.recording_audio`.
"""

from django.conf import settings
from django.core import signing

_SALT = "campaigns.recording-playback"


class LinkExpired(Exception):
    """The link was genuine but is older than PRIVATE_URL_EXPIRY_SECONDS."""


class LinkRefused(Exception):
    """The link was changed, or made for another recording or another person."""


def token_for(*, recording_id: int, user_id: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"r": recording_id, "u": user_id}, compress=False)


def check(token: str, *, recording_id: int, user_id: int) -> None:
    """Raise LinkExpired or LinkRefused unless `token` is this member's current link to this recording."""
    try:
        claims = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=settings.PRIVATE_URL_EXPIRY_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkRefused from exc
    if claims != {"r": recording_id, "u": user_id}:
        raise LinkRefused
