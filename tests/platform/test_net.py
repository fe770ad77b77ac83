"""Where a request came from: one spelling per address, and a keyed digest of its network."""

from nextsupport.net import network_digest, normalise_ip


def test_an_address_has_one_spelling_whatever_form_it_came_in():
    assert normalise_ip("::ffff:192.0.2.7") == normalise_ip("192.0.2.7") == "192.0.2.7"
    assert normalise_ip("2001:DB8:0:0::1") == "2001:db8::1"
    assert normalise_ip("not an address") == normalise_ip("") == ""


def test_a_network_digest_tells_networks_apart_but_not_hosts_within_one():
    def digest(address):
        return network_digest(address, purpose="test")

    assert digest("192.0.2.1") == digest("192.0.2.254") == digest("::ffff:192.0.2.9")
    assert digest("192.0.3.1") != digest("192.0.2.1")
    assert digest("2001:db8:1:aaaa::1") == digest("2001:db8:1:bbbb::2")  # one /48
    assert digest("2001:db8:2::1") != digest("2001:db8:1::1")
    assert "192.0.2" not in digest("192.0.2.1")
    assert digest("192.0.2.1") != network_digest("192.0.2.1", purpose="other")
    assert digest("not an address") == ""
