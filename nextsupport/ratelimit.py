"""A fixed-window rate limit in the cache (Redis in production), for public forms.

    if not ratelimit.allow("stop-calls", request, limit=10, window=3600):
        ...answer 429...

The client address is hashed before it becomes part of a cache key.
"""

import hashlib
import time

from django.core.cache import cache

from .net import client_ip


def allow(scope: str, request, *, limit: int, window: int) -> bool:
    """Count this request; False once the address has made more than `limit` in the current window."""
    address = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{address}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # evicted between add and incr: count this as the first
        cache.set(key, 1, timeout=window)
        return True
