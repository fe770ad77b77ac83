"""The rate limiter: counts per network, under a key the caller chooses, and its batched
form for endpoints too hot for a cache round trip per request."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import RequestFactory

from nextsupport import ratelimit

NOON = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


def test_the_rate_limit_counts_per_network_and_scope():
    cache.clear()
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    same_network = RequestFactory().post("/", REMOTE_ADDR="192.0.2.77")
    other_network = RequestFactory().post("/", REMOTE_ADDR="198.51.100.2")

    assert [ratelimit.allow("form", request, limit=2, window=60) for _ in range(2)] == [True, True]
    assert not ratelimit.allow("form", same_network, limit=2, window=60)  # a rotating bot in one /24
    assert ratelimit.allow("form", other_network, limit=2, window=60)
    assert ratelimit.allow("another-form", request, limit=2, window=60)
    cache.clear()


def test_a_caller_chosen_key_is_counted_apart_from_networks_and_other_keys():
    assert [ratelimit.allow_key("invites", "org-1", limit=2, window=60) for _ in range(3)] == [True, True, False]
    assert ratelimit.allow_key("invites", "org-2", limit=2, window=60)
    assert ratelimit.allow_key("other-scope", "org-1", limit=2, window=60)


def test_counting_by_network_is_unchanged_by_keyed_counts():
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    for _ in range(5):
        ratelimit.allow_key("form", "some-key", limit=100, window=60)

    assert [ratelimit.allow("form", request, limit=2, window=60) for _ in range(3)] == [True, True, False]


@pytest.fixture
def shared_count_updates(monkeypatch):
    cache.clear()
    monkeypatch.setattr(ratelimit, "_tally", ratelimit._Tally())
    updates = []
    add = ratelimit._add
    monkeypatch.setattr(ratelimit, "_add", lambda key, count, window: updates.append(count) or add(key, count, window))
    yield updates
    cache.clear()


def test_a_batched_limit_holds_a_flood_back_with_one_cache_update_per_batch(shared_count_updates):
    flood = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5")

    with time_machine.travel(NOON, tick=False):
        answers = [ratelimit.allow("consent", flood, limit=10, window=3600, batch=5) for _ in range(15)]

    assert answers == [True] * 10 + [False] * 5
    assert shared_count_updates == [5, 5, 5]


def test_a_batched_limit_sees_what_other_processes_counted_and_starts_afresh_each_window(shared_count_updates):
    flood = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5")

    with time_machine.travel(NOON, tick=False):
        [ratelimit.allow("consent", flood, limit=10, window=3600, batch=5) for _ in range(10)]
        ratelimit._tally = ratelimit._Tally()  # another web process, same cache
        answers = [ratelimit.allow("consent", flood, limit=10, window=3600, batch=5) for _ in range(5)]
    with time_machine.travel(NOON + datetime.timedelta(hours=1), tick=False):
        next_hour = ratelimit.allow("consent", flood, limit=10, window=3600, batch=5)

    assert answers == [True] * 4 + [False]  # up to batch - 1 over the limit per process, then held back
    assert next_hour is True


def test_a_flood_from_ever_new_networks_keeps_the_per_process_tally_bounded(shared_count_updates, monkeypatch):
    monkeypatch.setattr(ratelimit._Tally, "MAX_KEYS", 10)

    with time_machine.travel(NOON, tick=False):
        for n in range(50):
            network = RequestFactory().post("/", REMOTE_ADDR=f"198.51.{n}.1")
            # Exactly one batch from each: nothing stays pending, the network's total is remembered.
            [ratelimit.allow("consent", network, limit=10, window=3600, batch=2) for _ in range(2)]

    assert len(ratelimit._tally.known) <= 10
    assert len(ratelimit._tally.pending) <= 10
