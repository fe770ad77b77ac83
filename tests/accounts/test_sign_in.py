"""Signing in: password, then second factor; lockout after repeated failures (P15, P25)."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import BackupCodeDevice, SignInSession, TOTPDevice, User
from nextsupport.models import AuditEvent
from tests.accounts.helpers import actions, current_code, last_sequence, wrong_code
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def _password_login(client, email, password=PASSWORD, next_url="", network="127.0.0.1"):
    url = LOGIN + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": password}, REMOTE_ADDR=network)


@pytest.fixture
def enrolled_owner(owner):
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    return owner, device


def test_a_password_alone_leads_to_the_second_step_not_the_portal(client, enrolled_owner, organisation):
    owner, _ = enrolled_owner

    response = _password_login(client, owner.email, next_url=f"/app/o/{organisation.pk}/")
    followed = client.get(response["Location"])

    assert followed.status_code == 302
    assert followed["Location"].startswith(reverse("accounts:two-factor-verify"))


@pytest.mark.obligation("P25")
def test_the_authenticator_code_completes_sign_in_and_is_audited(client, enrolled_owner, organisation):
    owner, device = enrolled_owner
    _password_login(client, owner.email)
    since = last_sequence()

    response = client.post(
        reverse("accounts:two-factor-verify"), {"code": current_code(device), "next": f"/app/o/{organisation.pk}/"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/app/o/{organisation.pk}/"
    assert client.get(f"/app/o/{organisation.pk}/").status_code == 200
    assert "auth.signed_in" in actions(since)
    assert SignInSession.objects.get(user=owner).second_factor_at is not None


@pytest.mark.obligation("P25")
def test_a_backup_code_works_once(client, enrolled_owner, organisation):
    owner, _ = enrolled_owner
    codes = BackupCodeDevice.objects.create(user=owner, name="Backup codes").replace_codes()
    _password_login(client, owner.email)

    assert client.post(reverse("accounts:two-factor-verify"), {"code": codes[0].upper()}).status_code == 302
    client.logout()
    _password_login(client, owner.email)
    reused = client.post(reverse("accounts:two-factor-verify"), {"code": codes[0]})

    assert reused.status_code == 200
    assert "That code is not right" in reused.content.decode()
    assert BackupCodeDevice.objects.get(user=owner).remaining == 9


ATTACKER = "198.51.100.23"  # another network than the person's own
HOME = "203.0.113.9"


def _guess(client, email, times, *, network=ATTACKER):
    return [_password_login(client, email, password=f"wrong-guess-{n}", network=network) for n in range(times)]


def _errors(response) -> list[str]:
    return sorted(str(e) for errors in response.context["form"].errors.values() for e in errors)


@pytest.mark.obligation("P15")
def test_brute_force_passwords_pause_that_network_and_are_logged(client, enrolled_owner):
    owner, _ = enrolled_owner
    since = last_sequence()

    guesses = _guess(client, owner.email, 5)
    refused = _password_login(client, owner.email, network=ATTACKER)  # even the right password now

    assert [r.status_code for r in guesses] == [200] * 5
    assert "paused for 15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    logged = actions(since)
    assert logged.count("auth.sign_in_failed") == 5
    assert "auth.sign_in_paused" in logged
    assert logged[-1] == "auth.sign_in_throttled"


@pytest.mark.obligation("P15", "P25")
def test_someone_guessing_from_another_network_cannot_lock_the_person_out(client, enrolled_owner):
    owner, _ = enrolled_owner
    _guess(Client(), owner.email, 12)  # two pauses' worth, from the attacker's network

    response = _password_login(client, owner.email, network=HOME)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.obligation("P15")
def test_an_address_without_an_account_gets_exactly_the_answers_a_real_one_gets(enrolled_owner, db):
    owner, _ = enrolled_owner

    known = _guess(Client(), owner.email, 7)
    unknown = _guess(Client(), "nobody@acme.example", 7)

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert [_errors(r) for r in known] == [_errors(r) for r in unknown]
    assert "paused for 15 minutes" in _errors(known[-1])[0]


@pytest.mark.obligation("P15")
def test_guessing_spread_over_many_networks_pauses_the_address_everywhere(client, enrolled_owner, settings):
    owner, _ = enrolled_owner
    settings.SIGN_IN_ADDRESS_LIMIT_PER_HOUR = 8
    since = last_sequence()
    for network in ("198.51.100.1", "192.0.2.1"):
        _guess(Client(), owner.email, 4, network=network)  # below each network's own limit

    refused = _password_login(client, owner.email, network=HOME)

    assert "paused for 15 minutes" in refused.content.decode()
    paused = AuditEvent.objects.get(sequence__gt=since, action="auth.sign_in_paused")
    assert paused.details == {"scope": "address", "minutes": 15}


@pytest.mark.obligation("P15")
def test_the_person_is_told_by_email_when_sign_in_is_paused(client, enrolled_owner, django_capture_on_commit_callbacks):
    owner, _ = enrolled_owner

    with django_capture_on_commit_callbacks(execute=True):
        _guess(client, owner.email, 5)

    notices = [m for m in mail.outbox if "Failed attempts" in m.subject]
    assert [m.to for m in notices] == [[owner.email]]
    assert "paused sign-in attempts from the network" in notices[0].body
    assert "/accounts/password/reset/" in notices[0].body


def test_the_pause_lifts_after_its_time(client, enrolled_owner):
    owner, _ = enrolled_owner
    _guess(client, owner.email, 5)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        response = _password_login(client, owner.email, network=ATTACKER)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.obligation("P15")
def test_failures_for_unknown_addresses_are_logged_without_the_address(client, db):
    since = last_sequence()

    _password_login(client, "nobody@nowhere.example", password="whatever-it-is")

    event = AuditEvent.objects.get(sequence__gt=since, action="auth.sign_in_failed")
    assert event.details == {"reason": "password", "known_account": False}
    assert "nobody" not in str(event.details) and event.target_id == ""


@pytest.mark.obligation("P15", "P25")
def test_guessing_second_factor_codes_pauses_sign_in_and_signs_the_session_out(client, enrolled_owner):
    owner, device = enrolled_owner
    _password_login(client, owner.email, network=ATTACKER)
    since = last_sequence()

    for _ in range(5):
        # django-otp slows guessing down on its own; step past its back-off between tries.
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
        response = client.post(reverse("accounts:two-factor-verify"), {"code": wrong_code(device)}, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert "paused" in _password_login(client, owner.email, network=ATTACKER).content.decode()
    logged = actions(since)
    assert logged.count("auth.second_factor_failed") == 5
    assert "auth.sign_in_paused" in logged


def test_a_completed_sign_in_clears_that_networks_failures(client, enrolled_owner):
    owner, device = enrolled_owner
    _guess(client, owner.email, 4, network=HOME)
    _password_login(client, owner.email, network=HOME)
    client.post(reverse("accounts:two-factor-verify"), {"code": current_code(device)}, REMOTE_ADDR=HOME)
    client.logout()

    again = _guess(Client(), owner.email, 4, network=HOME)

    assert "paused" not in again[-1].content.decode()  # four new failures, not eight


def test_a_password_reset_lifts_the_pause(client, enrolled_owner, rf):
    owner, _ = enrolled_owner
    _guess(client, owner.email, 5)
    request = rf.get("/", REMOTE_ADDR=ATTACKER)
    request.session = client.session

    from allauth.account.signals import password_reset

    password_reset.send(sender=User, request=request, user=User.objects.get(pk=owner.pk))

    assert _password_login(client, owner.email, network=ATTACKER).status_code == 302


def test_ending_another_session_signs_that_browser_out(owner, client):
    from django.test import Client

    from tests.conftest import login

    other_browser = login(Client(), owner)
    this_browser = login(client, owner)
    other = SignInSession.objects.filter(user=owner).order_by("started_at").first()

    response = this_browser.post(reverse("accounts:session-end", args=[other.pk]))

    assert response.status_code == 302
    assert other_browser.get("/app/security/").status_code == 302  # back to sign-in
    assert "_auth_user_id" not in other_browser.session
    assert this_browser.get("/app/security/").status_code == 200


def test_someone_elses_session_cannot_be_ended(owner_client, outsider):
    record = SignInSession.objects.create(user=outsider)

    assert owner_client.post(reverse("accounts:session-end", args=[record.pk])).status_code == 404
    record.refresh_from_db()
    assert record.ended_at is None


def test_the_session_key_changes_when_the_second_factor_is_passed(client, enrolled_owner):
    owner, device = enrolled_owner
    _password_login(client, owner.email)
    before = client.session.session_key

    client.post(reverse("accounts:two-factor-verify"), {"code": current_code(device)})

    assert client.session.session_key != before
    assert client.get("/app/security/").status_code == 200
