"""A fixed-window rate limit in the cache (Redis in production), for public forms.

    if not ratelimit.allow("stop-calls", request, limit=10, window=3600):
        ...answer 429...

Requests are counted per network (IPv4 /24, IPv6 /48), so a bot rotating
addresses within one range is still held back; the cache key holds a keyed
hash of the network, never the address. `allow_key()` counts under a key the
caller chooses instead (e.g. an organisation's id).
"""

import time

from django.core.cache import cache

from .net import client_ip, network_digest


def allow(scope: str, request, *, limit: int, window: int) -> bool:
    """Count this request; False once its network has made more than `limit` in the current window."""
    network = network_digest(client_ip(request), purpose="rate-limit") or "unknown"
    return allow_key(scope, network, limit=limit, window=window)


def allow_key(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one event for `key`; False once it has had more than `limit` in the current window.

    For limits on something other than the client's network (an organisation,
    a recipient). `key` goes into the cache key as given: pass an id or a keyed
    digest, never personal data in clear.
    """
    bucket = f"ratelimit:{scope}:{key}:{int(time.time() // window)}"
    cache.add(bucket, 0, timeout=window)
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # evicted between add and incr: count this as the first
        cache.set(bucket, 1, timeout=window)
        return True
