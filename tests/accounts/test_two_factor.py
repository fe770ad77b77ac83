"""Mandatory two-factor authentication for client users and staff (P25)."""

import base64
import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import BackupCodeDevice, TOTPDevice
from tests.accounts import isolation
from tests.accounts.helpers import actions, current_code, last_sequence
from tests.conftest import login
from tests.factories import PASSWORD

SETUP = reverse("accounts:two-factor-setup")
VERIFY = reverse("accounts:two-factor-verify")


def _portal_and_api_urls(org_id: int):
    """Every page under /app/ and every API route, filled with the person's own ids."""
    for route in isolation.client_routes():
        if not route.startswith(("app/", "api/")):
            continue
        url = "/" + route.replace("<int:org_id>", str(org_id))
        url = re.sub(r"<int:\w+>", "1", url)
        yield re.sub(r"<(?:\w+:)?\w+>", "x", url)


@pytest.mark.obligation("P25")
def test_without_an_authenticator_every_portal_page_leads_to_enrolment(client, owner, organisation):
    client.force_login(owner)  # password only: no second factor yet
    pages = [url for url in _portal_and_api_urls(organisation.pk) if url.startswith("/app/")]

    for url in pages:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, f"{method.upper()} {url} answered {response.status_code}"
            assert response["Location"].startswith(SETUP + "?next="), f"{method.upper()} {url} went to {response['Location']}"
    assert len(pages) > 20


@pytest.mark.obligation("P25")
def test_with_an_authenticator_but_no_code_yet_every_portal_page_asks_for_the_code(client, owner, organisation):
    TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    client.force_login(owner)

    for url in (u for u in _portal_and_api_urls(organisation.pk) if u.startswith("/app/")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY + "?next="), url


@pytest.mark.obligation("P25")
def test_the_api_refuses_a_session_without_a_verified_second_factor(client, owner, organisation):
    TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    client.force_login(owner)
    api_urls = [url for url in _portal_and_api_urls(organisation.pk) if url.startswith("/api/")]

    for url in api_urls:
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(url)
            assert response.status_code in (401, 403), f"{method.upper()} {url} answered {response.status_code}"
    assert api_urls


def test_the_same_api_call_works_once_the_session_is_verified(owner_client, organisation):
    response = owner_client.get(f"/api/v1/orgs/{organisation.pk}/")

    assert response.status_code == 200
    assert response.json()["legal_name"] == "Acme Energy Ltd"


def test_account_settings_of_allauth_also_need_the_second_factor(client, owner):
    client.force_login(owner)

    for url in ("/accounts/email/", "/accounts/password/change/"):
        assert client.get(url)["Location"].startswith(SETUP)


def _device_shown(page) -> TOTPDevice:
    """The device whose secret the setup page shows (as typed into an app by hand)."""
    secret = re.search(r'id="totp-secret">([A-Z2-7 =]+)<', page.content.decode()).group(1).replace(" ", "")
    # The secret is encrypted at rest: find the device by comparing decrypted keys.
    return next(d for d in TOTPDevice.objects.all() if d.key == base64.b32decode(secret).hex())


def _codes(page) -> list[str]:
    return re.findall(r"<code>([a-z0-9-]{14})</code>", page.content.decode())


@pytest.mark.obligation("P25")
def test_enrolment_shows_a_qr_code_then_backup_codes_once_then_the_dashboard(client, owner, organisation):
    client.force_login(owner)
    page = client.get(SETUP + f"?next=/app/o/{organisation.pk}/")
    html = page.content.decode()
    device = _device_shown(page)

    assert "<svg" in html and "qr-code" in html  # drawn here, no external QR service
    assert "http" not in re.search(r"<svg.*?</svg>", html, re.S).group().replace("http://www.w3.org", "")
    refused = client.post(SETUP, {"name": "Work phone", "code": "000000" if current_code(device) != "000000" else "111111"})
    assert "did not match" in refused.content.decode()

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    device.refresh_from_db()
    codes_page = client.post(SETUP, {"name": "Work phone", "code": current_code(device), "next": f"/app/o/{organisation.pk}/"})
    codes = _codes(codes_page)

    assert codes_page.status_code == 200 and len(codes) == 10
    assert "no-store" in codes_page["Cache-Control"]
    assert f'href="/app/o/{organisation.pk}/">I have saved my codes' in codes_page.content.decode()
    assert client.get(SETUP)["Location"] == "/app/"  # enrolled: the codes are not shown again
    assert client.get(f"/app/o/{organisation.pk}/").status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    stored = BackupCodeDevice.objects.get(user=owner)
    assert not any(code.replace("-", "") in str(stored.code_hashes) for code in codes)


@pytest.mark.obligation("P25")
def test_new_backup_codes_never_reach_the_session_store(client, owner, organisation):
    client.force_login(owner)
    device = _device_shown(client.get(SETUP))

    codes = _codes(client.post(SETUP, {"name": "Work phone", "code": current_code(device)}))

    stored = " ".join(str(session.get_decoded()) for session in Session.objects.all())
    assert len(codes) == 10
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)


@pytest.mark.obligation("P25")
def test_each_browser_setting_up_an_authenticator_is_shown_a_secret_of_its_own(owner):
    # Someone who has the password opens the setup page before the owner does.
    intruder, rightful = Client(), Client()
    intruder.force_login(owner)
    rightful.force_login(owner)

    intruders_device = _device_shown(intruder.get(SETUP))
    owners_device = _device_shown(rightful.get(SETUP))

    assert intruders_device != owners_device and intruders_device.key != owners_device.key
    assert _device_shown(rightful.get(SETUP)) == owners_device  # a reload keeps the same QR code


@pytest.mark.obligation("P25")
def test_confirming_an_authenticator_discards_the_secrets_shown_to_other_browsers(owner):
    intruder, rightful = Client(), Client()
    intruder.force_login(owner)
    rightful.force_login(owner)
    intruders_device = _device_shown(intruder.get(SETUP))
    owners_device = _device_shown(rightful.get(SETUP))

    rightful.post(SETUP, {"name": "Work phone", "code": current_code(owners_device)})
    late = intruder.post(SETUP, {"name": "My phone", "code": current_code(intruders_device)})

    assert not TOTPDevice.objects.filter(pk=intruders_device.pk).exists()
    assert list(TOTPDevice.objects.filter(user=owner)) == [owners_device]
    assert TOTPDevice.objects.get(pk=owners_device.pk).confirmed
    assert late["Location"].startswith(VERIFY)  # the owner's app now guards the account


@pytest.mark.obligation("P25")
def test_someone_enrolled_cannot_enrol_again_without_the_code(client, owner):
    TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    client.force_login(owner)

    assert client.get(SETUP)["Location"].startswith(VERIFY)


def _reauthenticate(client):
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_adding_an_authenticator_needs_the_password_again(owner_client):
    first = owner_client.get(reverse("accounts:authenticator-add"))
    assert first.status_code == 302 and first["Location"].startswith("/accounts/reauthenticate/")

    _reauthenticate(owner_client)
    page = owner_client.get(reverse("accounts:authenticator-add"))

    assert page.status_code == 200 and "<svg" in page.content.decode()


@pytest.mark.obligation("P25")
def test_the_only_authenticator_cannot_be_removed(owner_client, owner):
    device = TOTPDevice.objects.get(user=owner)
    _reauthenticate(owner_client)

    owner_client.post(reverse("accounts:authenticator-remove", args=[device.pk]))

    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_second_authenticator_can_be_removed_after_reauthentication(owner_client, owner):
    spare = TOTPDevice.objects.create(user=owner, name="Old phone", confirmed=True)
    since = last_sequence()

    first = owner_client.post(reverse("accounts:authenticator-remove", args=[spare.pk]))
    assert first["Location"].startswith("/accounts/reauthenticate/")
    assert TOTPDevice.objects.filter(pk=spare.pk).exists()
    owner_client.post(first["Location"].split("?")[0] + "?" + first["Location"].split("?")[1], {"password": PASSWORD})

    assert not TOTPDevice.objects.filter(pk=spare.pk).exists()  # the suspended request was carried out
    assert "auth.authenticator_removed" in actions(since)
    assert owner_client.get("/app/security/").status_code == 200  # still signed in and verified


def test_backup_codes_are_regenerated_only_after_reauthentication(owner_client, owner):
    old_codes = BackupCodeDevice.objects.create(user=owner, name="Backup codes").replace_codes()

    refused = owner_client.post(reverse("accounts:backup-codes"))
    assert refused["Location"].startswith("/accounts/reauthenticate/")
    _reauthenticate(owner_client)
    page = owner_client.post(reverse("accounts:backup-codes"))
    new_codes = re.findall(r"<code>([a-z0-9-]{14})</code>", page.content.decode())

    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    device = BackupCodeDevice.objects.get(user=owner)
    assert device.verify_token(new_codes[0])
    assert not device.verify_token(old_codes[0])


# --- The admin ----------------------------------------------------------------------


@pytest.mark.obligation("P25")
def test_the_admin_refuses_staff_without_a_verified_second_factor(client, compliance_officer):
    TOTPDevice.objects.create(user=compliance_officer, name="Phone", confirmed=True)
    client.force_login(compliance_officer)

    response = client.get("/admin/")
    organisations = client.get("/admin/accounts/organisation/")

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert organisations.status_code == 302 and organisations["Location"].startswith(VERIFY)


def test_the_admin_opens_for_staff_once_verified_with_the_same_device(compliance_officer, organisation):
    staff = login(Client(), compliance_officer)

    assert staff.get("/admin/").status_code == 200
    assert staff.get("/admin/accounts/organisation/").status_code == 200


@pytest.mark.obligation("P25")
def test_the_admin_is_closed_to_client_users_even_with_two_factor(owner_client):
    response = owner_client.get("/admin/", follow=True)

    assert response.status_code == 403


def test_the_admin_sign_in_goes_through_the_one_sign_in_page(client, db):
    response = client.get("/admin/login/?next=/admin/accounts/organisation/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
