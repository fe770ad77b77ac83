"""E-mails the accounts app sends from a worker. Each task passes its ids to a
function of accounts.mail, which re-fetches, decides and sends through
nextsupport.mail: once per recipient, retried on a mail server's transient failure."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from nextsupport import mail as platform_mail
from nextsupport.models import PolicyDocument

from . import mail, selectors
from .models import Notice

_MAIL = {"bind": True, "max_retries": platform_mail.RETRIES}


@shared_task(**_MAIL)
def send_invitation(self, invitation_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.invitation, invitation_id=invitation_id, notice=notice)


@shared_task(**_MAIL)
def send_lockout_notice(self, user_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.lockout, user_id=user_id, notice=notice)


@shared_task(**_MAIL)
def send_security_notice(self, user_id: int, what: str, notice: str) -> int:
    return platform_mail.retrying(self, mail.security, user_id=user_id, what=what, notice=notice)


@shared_task(**_MAIL)
def send_api_key_notice(self, api_key_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.api_key_created, api_key_id=api_key_id, notice=notice)


@shared_task(**_MAIL)
def send_onboarding_decision(self, review_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.onboarding_decision, review_id=review_id, notice=notice)


@shared_task(**_MAIL)
def send_closure_notice(self, organisation_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.organisation_closed, organisation_id=organisation_id, notice=notice)


@shared_task(**_MAIL)
def send_organisation_notice(self, organisation_id: int, topic: str, subject: str, body: str, notice: str) -> int:
    return platform_mail.retrying(
        self, mail.organisation_notice, organisation_id=organisation_id, topic=topic, subject=subject, body=body, notice=notice
    )


@shared_task(**_MAIL)
def send_policy_notice(self, document_id: int, user_id: int, notice: str) -> int:
    return platform_mail.retrying(self, mail.policy_changed, document_id=document_id, user_id=user_id, notice=notice)


@shared_task(**_MAIL)
def send_account_email(self, notice: str, to: str, subject: str, body: str) -> int:
    return platform_mail.retrying(self, mail.account_email, notice=notice, to=to, subject=subject, body=body)


@shared_task
def notify_clients_of_policy_change(document_id: int) -> int:
    """Queue one e-mail per active client user about a significant policy change (P53).

    The conditional UPDATE claims the fan-out, so a second worker or a redelivered
    task queues nothing; each person's e-mail is then its own Notice, sent once and
    retried on its own.
    """
    with transaction.atomic():
        claimed = PolicyDocument.objects.filter(
            pk=document_id,
            significant_change=True,
            status=PolicyDocument.Status.PUBLISHED,
            clients_notified_at__isnull=True,
        ).update(clients_notified_at=timezone.now())
        if not claimed:
            return 0
        users = list(selectors.active_client_users().values_list("pk", flat=True))
        for user_id in users:
            notice, _ = Notice.objects.get_or_create(key=Notice.key_for("policy_changed", document_id, user_id))
            send_policy_notice.delay_on_commit(document_id, user_id, notice.key)
    return len(users)
