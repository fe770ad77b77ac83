"""A new teammate, from the invitation e-mail to their first signed-in page, in a real browser:
the e-mailed link works on the port the platform runs on, and the QR code on the page
decodes to the secret the authenticator needs, whole, on a wide screen and a phone."""

import base64
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
import zxingcpp
from django.core import mail
from django_otp.oath import totp
from PIL import Image

from accounts import services
from accounts.models import Membership, Role, TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("site_content")]

PASSPHRASE = "a-long-and-unusual-passphrase-81"


def decoded_qr(page) -> str:
    """What a phone's camera reads off the QR code as the page shows it (a screenshot of its area)."""
    shot = page.locator("figure.qr svg").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert len(found) == 1, "the page shows no readable QR code"
    return found[0].text


@pytest.mark.obligation("P25")
def test_an_invited_teammate_goes_from_the_e_mail_to_their_first_sign_in(page, served_at, organisation, owner):
    # Given an invitation e-mailed by the owner, while the platform runs on a port of its own
    services.invitation_create(
        organisation=organisation,
        email="sam.jones@acme.example",
        role=Role.CAMPAIGN_MANAGER,
        invited_by=Membership.objects.get(user=owner),
        request=None,
    )
    link = re.search(r"https?://\S+/app/invitations/\S+/", mail.outbox[-1].body).group(0)
    assert link.startswith(served_at)

    # When Sam follows the link and creates an account
    page.goto(link)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your full name").fill("Sam Jones")
    page.locator("input[name=password1]").fill(PASSPHRASE)
    page.locator("input[name=password2]").fill(PASSPHRASE)
    page.locator("input[name=accept_terms]").check()
    page.get_by_role("button", name="Create account").click()
    page.goto(f"{served_at}/app/")
    page.get_by_role("heading", name="Set up two-factor authentication").wait_for()

    # Then the QR code, read as a camera would, holds the secret the page spells out, on a wide screen and a phone
    device = TOTPDevice.objects.get(user__email="sam.jones@acme.example", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        box = page.locator("figure.qr svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"the QR code does not fit a {width} px screen"
        otpauth = urlparse(decoded_qr(page))
        assert otpauth.scheme == "otpauth" and parse_qs(otpauth.query)["secret"] == [secret.rstrip("=")]
    assert page.locator("#totp-secret").inner_text().replace(" ", "") == secret

    # And the code an app computes from that secret completes the first sign-in
    page.get_by_label("6-digit code from the app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="I have saved my codes").click()
    page.get_by_role("heading", name=organisation.display_name).wait_for()
    assert page.url == f"{served_at}/app/o/{organisation.pk}/"
    assert Membership.objects.get(user__email="sam.jones@acme.example").role == Role.CAMPAIGN_MANAGER
