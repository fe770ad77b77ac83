"""The whole way in, in a real browser: sign up, verify the e-mail address from the
link in the outbox, enrol an authenticator (the test computes its codes), reach the dashboard."""

import base64
import re
import time

import pytest
from django.core import mail
from django_otp.oath import TOTP

from accounts.models import Membership, Organisation

# site_content: transactional tests empty every table; sign-up needs the published Terms and DPA.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("site_content")]


def _code_for(secret_shown: str) -> str:
    key = base64.b32decode(secret_shown.replace(" ", ""))
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.mark.obligation("P25", "P53")
def test_signup_verify_enrol_and_reach_the_dashboard(live_server, served_at, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()

    page.get_by_label("Your full name").fill("Priya Shah")
    page.get_by_label("Organisation's legal name").fill("Shah Plumbing Ltd")
    page.get_by_label("Company number (optional)").fill("01234567")
    page.get_by_label("Work e-mail address").fill("priya@shah-plumbing.example")
    page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase-81")
    page.get_by_label("Password (again)").fill("a-long-and-unusual-passphrase-81")
    page.get_by_label(re.compile("accept the Terms of Service")).check()
    page.get_by_label(re.compile("accept the Data Processing Agreement")).check()
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    message = next(m for m in mail.outbox if "priya@shah-plumbing.example" in m.to)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    # Signed in by the confirmation, but nothing opens before the second factor.
    page.wait_for_url(re.compile(r"/accounts/2fa/setup/"))
    assert page.locator("svg.qr-code").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("6-digit code from the app").fill(_code_for(secret))
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name="Your backup codes").wait_for()
    assert page.locator(".backup-codes code").count() == 10
    page.get_by_role("link", name="I have saved my codes").click()

    organisation = Organisation.objects.get(legal_name="Shah Plumbing Ltd")
    page.wait_for_url(re.compile(rf"/app/o/{organisation.pk}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Shah Plumbing Ltd"
    assert page.get_by_role("heading", name="Calls cannot start yet").is_visible()
    assert page.get_by_role("link", name="Dashboard").is_visible()
    assert Membership.objects.get(organisation=organisation).user.email == "priya@shah-plumbing.example"
