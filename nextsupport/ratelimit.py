"""A fixed-window rate limit in the cache (Redis in production), for public forms.

    if not ratelimit.allow("stop-calls", request, limit=10, window=3600):
        ...answer 429...

Requests are counted per network (IPv4 /24, IPv6 /48), so a bot rotating
addresses within one range is still held back; the cache key holds a keyed
hash of the network, never the address. `allow_key()` counts under a key the
caller chooses instead (e.g. an organisation's id).

An endpoint too hot for a cache round trip per request (the cookie-consent log)
passes `batch`: each process then tallies a network's requests in memory and
adds them to the shared count `batch` at a time.
"""

import threading
import time

from django.core.cache import cache

from .net import client_ip, network_digest


def allow(scope: str, request, *, limit: int, window: int, batch: int = 1) -> bool:
    """Count this request; False once its network has made more than `limit` in the current window.

    With `batch` > 1 a process reaches the cache once per `batch` requests from a
    network instead of once per request, and may let up to `batch` - 1 requests
    more than `limit` through (per process) before it sees the shared count.
    """
    network = network_digest(client_ip(request), purpose="rate-limit") or "unknown"
    if batch <= 1:
        return allow_key(scope, network, limit=limit, window=window)
    current = int(time.time() // window)
    key = f"ratelimit:{scope}:{network}:{current}"
    return _tally.count(f"ratelimit:{scope}:", current, key, batch=batch, window=window) <= limit


def allow_key(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one event for `key`; False once it has had more than `limit` in the current window.

    For limits on something other than the client's network (an organisation,
    a recipient). `key` goes into the cache key as given: pass an id or a keyed
    digest, never personal data in clear.
    """
    return count_key(scope, key, window=window) <= limit


def count_key(scope: str, key: str, *, window: int) -> int:
    """Count one event for `key`; how many it has had in the current window, this one included."""
    return _add(_window_key(scope, key, window), 1, window)


def forget_key(scope: str, key: str, *, window: int) -> None:
    """Start `key`'s count for the current window again from nothing."""
    cache.delete(_window_key(scope, key, window))


def _window_key(scope: str, key: str, window: int) -> str:
    return f"ratelimit:{scope}:{key}:{int(time.time() // window)}"


def _add(key: str, count: int, window: int) -> int:
    """Add `count` to the shared counter `key`; returns its new value."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key, count)
    except ValueError:  # evicted between add and incr: count this as the first
        cache.set(key, count, timeout=window)
        return count


class _Tally:
    """Per process: requests not yet added to the shared counters, and each counter's last known value."""

    # An attacker rotating networks must not grow these without end; past it, the
    # little that waits here is forgotten (at most batch - 1 requests per network).
    MAX_KEYS = 10_000

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, int] = {}
        self.known: dict[str, int] = {}
        self.windows: dict[str, int] = {}

    def count(self, prefix: str, current: int, key: str, *, batch: int, window: int) -> int:
        """This request counted: the network's total as far as this process knows."""
        with self.lock:
            if self.windows.get(prefix) != current or self._full():
                self._forget(prefix)
                self.windows[prefix] = current
            pending = self.pending.get(key, 0) + 1
            if pending < batch:
                self.pending[key] = pending
                return self.known.get(key, 0) + pending
            self.pending.pop(key, None)
        total = _add(key, pending, window)
        with self.lock:
            self.known[key] = total
        return total

    def _forget(self, prefix: str) -> None:
        # A new window: the counts of the last one are of no use any more.
        for table in (self.pending, self.known):
            for key in [k for k in table if k.startswith(prefix)]:
                del table[key]
        if self._full():
            self.pending.clear()
            self.known.clear()

    def _full(self) -> bool:
        # Both tables: a network that sends exactly `batch` requests leaves
        # nothing pending but one entry in `known`.
        return len(self.pending) >= self.MAX_KEYS or len(self.known) >= self.MAX_KEYS


_tally = _Tally()
