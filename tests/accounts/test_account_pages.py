"""allauth's pages in our layout, and the password and e-mail changes they make (P15)."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import SignInSession, User
from tests.accounts.helpers import actions, last_sequence
from tests.conftest import login
from tests.factories import PASSWORD


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_sign_in_pages_use_the_accessible_site_layout(client, db, url):
    html = client.get(url).content.decode()

    assert '<html lang="en-GB">' in html and '<main id="main"' in html
    assert 'class="auth"' in html
    assert "<h1>" in html
    inputs = set(re.findall(r'<input[^>]*type="(?:text|email|password)"[^>]*id="(id_\w+)"', html)) - {"id_website"}
    assert inputs, "the page has a form"
    assert all(f'for="{field_id}"' in html for field_id in inputs)  # every input has its label


@pytest.mark.parametrize("url", ["/accounts/password/change/", "/accounts/email/", "/accounts/logout/"])
def test_signed_in_account_pages_render(owner_client, url):
    response = owner_client.get(url, follow=True)

    assert response.status_code == 200
    assert '<main id="main"' in response.content.decode()


@pytest.mark.obligation("P15")
def test_a_password_change_is_logged_and_signs_out_the_other_browsers(owner, client, django_capture_on_commit_callbacks):
    elsewhere = login(Client(), owner)
    here = login(client, owner)
    here.post("/accounts/reauthenticate/", {"password": PASSWORD})
    since = last_sequence()

    with django_capture_on_commit_callbacks(execute=True):  # e-mails are queued when the change commits
        response = here.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": "another-long-passphrase-93", "password2": "another-long-passphrase-93"},
        )

    assert response.status_code == 302
    assert "auth.password_changed" in actions(since)
    assert elsewhere.get("/app/security/").status_code == 302
    assert here.get("/app/security/").status_code == 200
    assert SignInSession.objects.filter(user=owner, ended_at__isnull=True).count() == 1
    assert any("password" in m.subject.lower() for m in mail.outbox)  # the owner is told


@pytest.mark.obligation("P15")
def test_an_email_change_takes_effect_only_after_verification_and_is_logged(
    owner_client, owner, django_capture_on_commit_callbacks
):
    owner_client.post("/accounts/reauthenticate/", {"password": PASSWORD})

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/accounts/email/", {"action_add": "", "email": "olivia@acme-energy.example"})
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    assert User.objects.get(pk=owner.pk).email == "owner@acme.example"
    since = last_sequence()
    owner_client.post(link)

    assert User.objects.get(pk=owner.pk).email == "olivia@acme-energy.example"
    assert "auth.email_changed" in actions(since)


def test_a_forgotten_password_is_reset_by_an_emailed_link(client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": owner.email})
    # The link starts from SITE_URL, the address the platform serves, like every e-mailed link.
    link = re.search(rf"{re.escape(settings.SITE_URL)}(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)

    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": "a-brand-new-passphrase-57", "password2": "a-brand-new-passphrase-57"},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).check_password("a-brand-new-passphrase-57")


def test_the_sign_in_page_has_one_forgot_your_password_link(client, db):
    html = client.get("/accounts/login/").content.decode()

    assert html.count('href="/accounts/password/reset/"') == 1
    assert "Forgot your password?" in html


def test_account_e_mails_are_in_our_words_not_the_librarys(client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": owner.email})
        client.post("/accounts/password/reset/", {"email": "nobody@acme.example"})

    reset, unknown = mail.outbox[-2:]
    assert reset.subject == "NextSupport: Reset your password"
    assert reset.body.startswith("Hello,\n\nSomeone, probably you, asked to reset the password of your NextSupport account.")
    assert unknown.subject == "NextSupport: No NextSupport account uses this address"
    for message in (reset, unknown):
        assert "example.com" not in message.body and "Hello from" not in message.body
        assert message.body.rstrip().endswith(f"NextSupport\n{settings.SITE_URL}")
