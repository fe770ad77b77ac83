"""A fixed-window rate limit in the cache (Redis in production), for public forms.

    if not ratelimit.allow("stop-calls", request, limit=10, window=3600):
        ...answer 429...

Requests are counted per network (IPv4 /24, IPv6 /48), so a bot rotating
addresses within one range is still held back; the cache key holds a keyed
hash of the network, never the address.
"""

import time

from django.core.cache import cache

from .net import client_ip, network_digest


def allow(scope: str, request, *, limit: int, window: int) -> bool:
    """Count this request; False once its network has made more than `limit` in the current window."""
    network = network_digest(client_ip(request), purpose="rate-limit") or "unknown"
    key = f"ratelimit:{scope}:{network}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # evicted between add and incr: count this as the first
        cache.set(key, 1, timeout=window)
        return True
