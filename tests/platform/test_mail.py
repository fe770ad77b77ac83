"""nextsupport.mail: one way to send an e-mail, once, retried when the mail server is only briefly away."""

import smtplib

import pytest
from celery import shared_task
from celery.exceptions import Retry

from accounts.models import Notice
from nextsupport import mail


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionError("refused"), True),
        (TimeoutError(), True),
        (smtplib.SMTPServerDisconnected(), True),
        (smtplib.SMTPResponseException(421, b"busy"), True),
        (smtplib.SMTPResponseException(550, b"no such mailbox"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_an_unreachable_or_busy_mail_server_is_worth_another_try(error, transient):
    assert mail.is_transient(error) is transient


@shared_task(bind=True, max_retries=mail.RETRIES)
def _failing(self, error_code: int):
    def work():
        raise smtplib.SMTPResponseException(error_code, b"")

    return mail.retrying(self, work)


def test_a_transient_failure_is_retried_with_backoff_and_a_refusal_is_not():
    with pytest.raises(Retry) as retried:
        _failing.apply(args=[451], throw=True)
    assert retried.value.when == 60

    with pytest.raises(smtplib.SMTPResponseException):
        _failing.apply(args=[550], throw=True)


def test_a_claimed_e_mail_is_not_sent_again(db):
    rows = Notice.objects.filter(key=Notice.objects.create(key="x").key)
    sent = []

    assert mail.send_once(rows, send=lambda: sent.append(1)) is True
    assert mail.send_once(rows, send=lambda: sent.append(1)) is False
    assert sent == [1]


def test_links_start_from_the_one_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8011/"

    assert mail.absolute("/app/") == "http://127.0.0.1:8011/app/"
