"""How many sign-in failures are allowed before attempts are paused (P15, P25): the one place for the rule.

Failures (wrong passwords and wrong second-factor codes) are counted per address
and network (IPv4 /24, IPv6 /48): NETWORK_LIMIT of them within a window pause
that address's attempts from that network only, so someone guessing from
elsewhere never locks the real person out. A slower count per address across
every network (ADDRESS_LIMIT an hour) stops guessing spread over many networks.
Each pause lasts PAUSE_MINUTES from the failure that started it.

Addresses are counted alike whether or not an account has them, and a paused
address gets the same answer either way, so the answer never tells anyone which
addresses have accounts. The cache holds keyed digests of the address and
network, never either in clear.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from nextsupport import crypto, ratelimit
from nextsupport.net import client_ip, network_digest

NETWORK = "network"
ADDRESS = "address"
_HOUR = 3600


@dataclass(frozen=True)
class Pause:
    scope: str  # NETWORK or ADDRESS
    minutes: int  # until it ends, rounded up


def _limits() -> dict[str, tuple[int, int]]:
    """(failures allowed, window in seconds) per scope."""
    return {
        NETWORK: (settings.SIGN_IN_LOCKOUT_THRESHOLD, settings.SIGN_IN_LOCKOUT_MINUTES * 60),
        ADDRESS: (settings.SIGN_IN_ADDRESS_LIMIT_PER_HOUR, _HOUR),
    }


def _address(email: str) -> str:
    # Any text typed as the login, valid address or not, so an unknown one is counted like a known one.
    return crypto.blind_index("sign-in", (email or "").strip().casefold()).hex()[:32]


def _keys(email: str, request) -> dict[str, str]:
    address = _address(email)
    network = network_digest(client_ip(request), purpose="rate-limit") or "unknown"
    return {NETWORK: f"{address}:{network}", ADDRESS: address}


def _pause_key(scope: str, key: str) -> str:
    return f"sign-in-paused:{scope}:{key}"


def pause_for(email: str, request) -> Pause | None:
    """The pause on attempts for this address from this request's network, if there is one."""
    now = timezone.now().timestamp()
    for scope, key in _keys(email, request).items():
        until = cache.get(_pause_key(scope, key))
        if until is not None and until > now:
            return Pause(scope, max(1, -(-int(until - now) // 60)))
    return None


def count_failure(email: str, request) -> list[Pause]:
    """Count one failure for this address and network; the pauses this failure started (usually none)."""
    started = []
    pause_seconds = settings.SIGN_IN_LOCKOUT_MINUTES * 60
    for scope, key in _keys(email, request).items():
        limit, window = _limits()[scope]
        if ratelimit.count_key(f"sign-in-{scope}", key, window=window) == limit:
            cache.set(_pause_key(scope, key), timezone.now().timestamp() + pause_seconds, timeout=pause_seconds)
            ratelimit.forget_key(f"sign-in-{scope}", key, window=window)  # the next pause needs as many failures again
            started.append(Pause(scope, settings.SIGN_IN_LOCKOUT_MINUTES))
    return started


def forget(email: str, request=None, *, everywhere: bool = False) -> None:
    """Clear the counts and pauses of this address: from the request's network (a completed
    sign-in), and with `everywhere` its address-wide ones too (a password reset, staff)."""
    scopes = [NETWORK] if request is not None else []
    if everywhere:
        scopes.append(ADDRESS)
    keys = _keys(email, request) if request is not None else {ADDRESS: _address(email)}
    for scope in scopes:
        _, window = _limits()[scope]
        ratelimit.forget_key(f"sign-in-{scope}", keys[scope], window=window)
        cache.delete(_pause_key(scope, keys[scope]))


def paused_everywhere(email: str) -> bool:
    """Whether the address-wide pause is on (shown to staff)."""
    until = cache.get(_pause_key(ADDRESS, _address(email)))
    return until is not None and until > timezone.now().timestamp()
