"""The rate limiter also counts under a key the caller chooses (an organisation, an address digest)."""

from django.test import RequestFactory

from nextsupport import ratelimit


def test_a_caller_chosen_key_is_counted_apart_from_networks_and_other_keys():
    assert [ratelimit.allow_key("invites", "org-1", limit=2, window=60) for _ in range(3)] == [True, True, False]
    assert ratelimit.allow_key("invites", "org-2", limit=2, window=60)
    assert ratelimit.allow_key("other-scope", "org-1", limit=2, window=60)


def test_counting_by_network_is_unchanged_by_keyed_counts():
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    for _ in range(5):
        ratelimit.allow_key("form", "some-key", limit=100, window=60)

    assert [ratelimit.allow("form", request, limit=2, window=60) for _ in range(3)] == [True, True, False]
