"""E-mails from the accounts app go out once, even when the broker hands a task out twice.

Tasks are acknowledged late (CELERY_TASK_ACKS_LATE): a worker that dies after
sending but before acknowledging gets its task redelivered. Each test below
makes a change, then runs every task it enqueued twice, as a redelivery would.
"""

import datetime
import smtplib

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from accounts import mail as accounts_mail
from accounts import services
from accounts.models import Membership, Notice, Role, TOTPDevice
from tests.accounts.helpers import request_changes
from tests.factories import OrganisationFactory, UserFactory


def _run_twice(callbacks) -> tuple[int, int]:
    """E-mails sent by the first delivery of each enqueued task, and by the redelivery."""
    before = len(mail.outbox)
    for callback in callbacks:
        callback()
    first = len(mail.outbox) - before
    for callback in callbacks:
        callback()
    return first, len(mail.outbox) - before - first


def _invite(organisation, owner, email="new@acme.example"):
    return services.invitation_create(
        organisation=organisation, email=email, role=Role.VIEWER, invited_by=Membership.objects.get(user=owner), request=None
    )


def _lock(owner, rf):
    for _ in range(5):
        services.sign_in_failed(email=owner.email, user=owner, request=rf.post("/accounts/login/"), reason="password")


def _remove_authenticator(owner, rf):
    TOTPDevice.objects.create(user=owner, name="Old phone", confirmed=True)
    spare = TOTPDevice.objects.create(user=owner, name="New phone", confirmed=True)
    request = rf.post("/")
    request.user = owner
    services.authenticator_remove(device=spare, request=request)


def _create_api_key(organisation, owner):
    services.api_key_create(
        organisation=organisation, name="CRM", scope="read_only", expires_at=None, created_by=owner, request=None
    )


CHANGES = {
    "invitation": lambda org, owner, rf: _invite(org, owner),
    "account locked": lambda org, owner, rf: _lock(owner, rf),
    "authenticator removed": lambda org, owner, rf: _remove_authenticator(owner, rf),
    "API key created": lambda org, owner, rf: _create_api_key(org, owner),
    "organisation closed": lambda org, owner, rf: services.organisation_close(
        organisation=org, by=owner, reason="", request=None
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_redelivered_task_sends_nothing_the_first_delivery_sent(
    change, organisation, owner, rf, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        CHANGES[change](organisation, owner, rf)

    first, redelivered = _run_twice(callbacks)

    assert (first, redelivered) == (1, 0)
    assert Notice.objects.filter(sent_at__isnull=False).count() == len(callbacks) == 1


def test_a_redelivered_onboarding_decision_is_not_sent_twice(compliance_officer, django_capture_on_commit_callbacks):
    newcomer = OrganisationFactory(new=True)
    Membership.objects.create(user=compliance_officer, organisation=newcomer, role=Role.OWNER)
    with django_capture_on_commit_callbacks() as callbacks:
        request_changes(newcomer, by=compliance_officer, reason="Add your registered address.")

    assert _run_twice(callbacks) == (1, 0)


def _smtp_unreachable(message):
    raise ConnectionError("SMTP server unreachable")


def test_a_notice_whose_send_failed_is_retried_later_and_sent_once(
    organisation, owner, django_capture_on_commit_callbacks, monkeypatch
):
    # Given an invitation whose e-mail meets a mail server that is down
    with django_capture_on_commit_callbacks() as callbacks:
        _invite(organisation, owner)
    monkeypatch.setattr("nextsupport.mail.EmailMessage.send", _smtp_unreachable)

    # When the task runs, then (the server back) runs again as its retry
    with pytest.raises(Retry):
        callbacks[0]()
    failed = Notice.objects.get()
    monkeypatch.undo()
    callbacks[0]()

    # Then the failure was recorded without its text and a retry scheduled; the retry sent it once
    assert (failed.sent_at, failed.sending_since, failed.send_error) == (None, None, "ConnectionError")
    assert len(mail.outbox) == 1
    assert Notice.objects.get().sent_at is not None


def test_a_retry_after_a_failure_part_way_skips_whoever_already_has_the_e_mail(organisation, owner, monkeypatch):
    # Given a security notice for two admins, and a mail server that fails on the second
    admin = Membership.objects.create(user=UserFactory(email="admin@acme.example"), organisation=organisation, role=Role.ADMIN)
    notice = Notice.objects.create(key="organisation_notice:test").key
    real_send = EmailMessage.send

    def second_fails(message):
        if message.to == [admin.user.email]:
            raise smtplib.SMTPResponseException(451, b"try later")
        return real_send(message)

    monkeypatch.setattr("nextsupport.mail.EmailMessage.send", second_fails)
    with pytest.raises(smtplib.SMTPResponseException):
        accounts_mail.organisation_notice(organisation_id=organisation.pk, topic="security", subject="S", body="B", notice=notice)
    monkeypatch.undo()

    # When it is tried again
    accounts_mail.organisation_notice(organisation_id=organisation.pk, topic="security", subject="S", body="B", notice=notice)

    # Then each admin got it exactly once
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.example", "owner@acme.example"]


def test_only_the_newest_link_of_a_resent_invitation_is_mailed(organisation, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as first:
        invitation = _invite(organisation, owner)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)), django_capture_on_commit_callbacks() as second:
        services.invitation_resend(invitation=invitation, by=Membership.objects.get(user=owner), request=None)

    for callback in [*second, *first]:  # the old task arrives late
        callback()

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    # The signed payload names the invitation and its newest nonce; the timestamp after it
    # depends on the second the e-mail was rendered, so it is left out of the comparison.
    assert invitation.token().split(":")[0] in mail.outbox[0].body
