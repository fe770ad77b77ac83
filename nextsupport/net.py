"""Where a request came from."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .crypto import blind_index


def client_ip(request) -> str:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    With TRUSTED_PROXY_COUNT proxies in front of us, the client is the entry that
    many hops from the right; anything further left is what the client claimed.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            remote = forwarded[-hops]
    return normalise_ip(remote)


# Parsing an address costs more than the rest of a consent request's checks, and
# the same addresses come back request after request: both answers are cached.
@lru_cache(maxsize=8192)
def normalise_ip(value: str) -> str:
    """One spelling per address ('' when it is not an address)."""
    address = _parse(value)
    return "" if address is None else address.compressed


@lru_cache(maxsize=8192)
def network_digest(value: str, *, purpose: str) -> str:
    """A keyed hash of the network an address belongs to (IPv4 /24, IPv6 /48), never the address.

    Enough to tell requests from one network apart (consent proof, rate limits)
    without keeping an address that identifies a household. '' when not an address.
    """
    address = _parse(value)
    if address is None:
        return ""
    # Mask the host bits arithmetically: this runs for every consent record.
    if address.version == 4:
        network = f"{ipaddress.IPv4Address(int(address) & 0xFFFF_FF00)}/24"
    else:
        network = f"{ipaddress.IPv6Address(int(address) >> 80 << 80)}/48"
    return blind_index(purpose, network).hex()[:32]


def network_of(value: str) -> str:
    """The network an address belongs to, written out ("203.0.113.0/24", "2001:db8:1::/48"); '' when not an address."""
    address = _parse(value)
    if address is None:
        return ""
    prefix = 24 if address.version == 4 else 48
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False).compressed


@lru_cache(maxsize=8192)
def address_digest(value: str) -> str:
    """A keyed hash of one address (never the address): equal for two events from the same address.

    Only someone holding the blind-index key can test an address against it (and
    an IPv4 address is quickly tried by whoever does), so it is shown to staff and
    never published. '' when not an address.
    """
    address = _parse(value)
    return "" if address is None else blind_index("audit-address", address.compressed).hex()[:32]


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `value` spells, an IPv4-mapped IPv6 address as the IPv4 one it carries."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@receiver(setting_changed)
def _forget_digests(*, setting, **kwargs):
    if setting.startswith("BLIND_INDEX_"):
        network_digest.cache_clear()
        address_digest.cache_clear()
