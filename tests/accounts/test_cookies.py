"""Nothing personal travels in a cookie (P24): a signed cookie is not an encrypted one,
and anyone with the browser, its backups or a proxy's logs can read it."""

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import TOTPDevice
from tests.accounts.helpers import current_code
from tests.factories import PASSWORD


def readable(value: str) -> str:
    """A cookie's value with every signed or base64 part decoded, as a curious reader would."""
    text = value
    for part in re.split(r"[:.]", value):
        try:
            text += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "ignore")
        except ValueError:
            continue
    return text


def visit(browser: Client, method: str, url: str, data=None) -> tuple[str, dict[str, str]]:
    """Follow the request's redirects by hand; the final page and every cookie any hop set."""
    response = getattr(browser, method)(url, data or {})
    cookies = {}
    while True:
        cookies.update({name: readable(morsel.value) for name, morsel in response.cookies.items() if morsel.value})
        if response.status_code not in (301, 302):
            return response.content.decode(), cookies
        response = browser.get(response["Location"])


@pytest.mark.obligation("P24")
def test_signing_in_and_using_the_portal_puts_no_address_in_a_cookie(owner, organisation):
    # Given an owner with an authenticator, in a fresh browser
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    browser, cookies = Client(), {}

    # When they sign in with password and code and invite a colleague, each step answering with a message
    steps = [
        ("post", reverse("account_login"), {"login": owner.email, "password": PASSWORD}),
        ("post", reverse("accounts:two-factor-verify"), {"code": current_code(device)}),
        ("post", reverse("accounts:team-invite", args=[organisation.pk]), {"email": "sam.jones@acme.example", "role": "viewer"}),
    ]
    for method, url, data in steps:
        page, set_cookies = visit(browser, method, url, data)
        cookies.update(set_cookies)

    # Then the messages reached the page, but no cookie ever held them or an address
    assert "Invitation sent to sam.jones@acme.example" in page
    assert set(cookies) <= {"sessionid", "csrftoken"}
    assert not [name for name, text in cookies.items() if owner.email in text or "sam.jones" in text]
