"""Writes of the cookies app: recording a visitor's choice, purging old records."""

import datetime
import os
import uuid

from django.core.cache import cache
from django.utils import timezone

from nextsupport.net import network_digest

from . import buffer
from .buffer import LoggedChoice
from .models import OPTIONAL_CATEGORIES
from .selectors import BANNER_CACHE_KEY

CONSENT_MAX_AGE = datetime.timedelta(days=365)  # P32, and the banner asks again after it


def consent_record(
    *,
    consent_id: uuid.UUID | None,
    categories: list[str],
    policy_version: int,
    banner_version: str,
    gpc: bool,
    ip: str,
) -> LoggedChoice:
    """Log one choice. A first choice gets a new consent id; later ones reuse the visitor's.

    The choice goes through the Redis buffer (cookies.buffer) when one is
    configured, else straight into the table: one INSERT, atomic on its own,
    with no explicit transaction around it on this hottest of paths.
    """
    unknown = set(categories) - set(OPTIONAL_CATEGORIES)
    if unknown:
        raise ValueError(f"Unknown cookie categories: {', '.join(sorted(unknown))}.")
    # Both ids from one read of the system's randomness (uuid4() reads it once for each).
    random = os.urandom(32)
    choice = LoggedChoice(
        id=uuid.UUID(bytes=random[:16], version=4),
        consent_id=consent_id or uuid.UUID(bytes=random[16:], version=4),
        categories=sorted(set(categories)),
        policy_version=policy_version,
        banner_version=banner_version,
        gpc=gpc,
        ip_hash=network_digest(ip, purpose="consent-ip"),
        created_at=timezone.now(),
    )
    if not buffer.push(choice):
        choice.as_record().save(force_insert=True)
    return choice


def consent_buffer_flush() -> int:
    """Write buffered consent records to the table (Celery beat, and before staff search the log)."""
    return buffer.flush()


def banner_cache_clear() -> None:
    """Forget the cached register and policy version (after the register or cookie policy changed)."""
    cache.delete(BANNER_CACHE_KEY)
