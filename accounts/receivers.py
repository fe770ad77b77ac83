"""How accounts reacts to platform events: e-mailing clients about significant policy changes (P53)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone

from nextsupport.models import PolicyDocument
from nextsupport.signals import policy_published
from nextsupport.views import policy_url

from .models import Organisation, User

logger = logging.getLogger(__name__)


def active_client_users():
    """Active users who are members of at least one active client organisation."""
    return User.objects.filter(is_active=True, memberships__organisation__status=Organisation.Status.ACTIVE).distinct()


@receiver(policy_published, dispatch_uid="accounts.email_clients_about_significant_change")
def email_clients_about_significant_change(*, document, **kwargs):
    if document.significant_change:
        notify_clients_of_policy_change.delay(document.pk)


@shared_task
def notify_clients_of_policy_change(document_id: int) -> int:
    """E-mail every active client user once about a significant policy change.

    The conditional UPDATE claims the work, so a second worker or a redelivered
    task finds it claimed and sends nothing (at most once: a crash mid-send is
    logged for staff to follow up, never repeated to clients who already got it).
    """
    claimed = PolicyDocument.objects.filter(
        pk=document_id, significant_change=True, status=PolicyDocument.Status.PUBLISHED, clients_notified_at__isnull=True
    ).update(clients_notified_at=timezone.now())
    if not claimed:
        return 0
    document = PolicyDocument.objects.get(pk=document_id)
    path = policy_url(document.kind) or ""
    body = render_to_string(
        "accounts/email/policy_changed.txt",
        {
            "document": document,
            "url": f"{settings.PUBLIC_SITE_URL}{path}" if path else "",
            "compliance_email": settings.COMPLIANCE_EMAIL,
        },
    )
    subject = f"We are updating our {document.get_kind_display()}"
    # One message per person (no shared recipient list), sent in batches over one connection each.
    sent, batch = 0, []
    for email in active_client_users().values_list("email", flat=True).iterator():
        batch.append(EmailMessage(subject=subject, body=body, to=[email]))
        if len(batch) == 100:
            sent += mailers.default.send_messages(batch) or 0
            batch = []
    if batch:
        sent += mailers.default.send_messages(batch) or 0
    logger.info("Policy %s v%s: e-mailed %s client users.", document.kind, document.version, sent)
    return sent
