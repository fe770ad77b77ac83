"""E-mails the accounts app sends from a worker: ids in, re-fetched, nothing sent
for a row that no longer needs it, and nothing sent twice: each task carries the
key of the Notice its caller created, and claims it before sending."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from nextsupport.models import PolicyDocument
from nextsupport.views import policy_url

from . import mail, selectors
from .models import APIKey, Invitation, Notice, OnboardingReview, Organisation, User

logger = logging.getLogger(__name__)


def _send_once(notice: str, name: str, recipients: list[str], context: dict) -> int:
    """Send the e-mail unless its notice (see accounts.models.Notice) was already sent.

    The claim (a conditional UPDATE) and the send share one transaction: a second
    worker's claim waits for the first to commit and then finds the notice sent,
    and a send that fails undoes the claim, so the notice can still go out later.
    """
    with transaction.atomic():
        claimed = Notice.objects.filter(key=notice, sent_at__isnull=True).update(sent_at=timezone.now())
        if not claimed:
            return 0
        return mail.send(name, recipients, context)


@shared_task
def send_invitation(invitation_id: int, notice: str) -> int:
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return 0
    if notice != Notice.key_for("invitation", invitation.pk, invitation.nonce):
        return 0  # the invitation was re-sent since: only the newest link goes out, by its own task
    link = mail.absolute(reverse("accounts:invitation", args=[invitation.token()]))
    return _send_once(notice, "invitation", [invitation.email], {"invitation": invitation, "link": link})


@shared_task
def send_lockout_notice(user_id: int, notice: str) -> int:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    reset = mail.absolute(reverse("account_reset_password"))
    context = {"user": user, "reset_link": reset, "minutes": settings.SIGN_IN_LOCKOUT_MINUTES}
    return _send_once(notice, "account_locked", [user.email], context)


@shared_task
def send_security_notice(user_id: int, what: str, notice: str) -> int:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    link = mail.absolute(reverse("accounts:security"))
    return _send_once(notice, f"security_{what}", [user.email], {"user": user, "security_link": link})


@shared_task
def send_api_key_notice(api_key_id: int, notice: str) -> int:
    key = APIKey.objects.select_related("organisation", "created_by").filter(pk=api_key_id).first()
    if key is None or key.revoked_at:
        return 0
    recipients = selectors.notification_recipients(key.organisation, selectors.Topic.SECURITY)
    link = mail.absolute(reverse("accounts:api-keys", args=[key.organisation_id]))
    return _send_once(notice, "api_key_created", recipients, {"key": key, "link": link})


@shared_task
def send_onboarding_decision(review_id: int, notice: str) -> int:
    review = OnboardingReview.objects.select_related("organisation").filter(pk=review_id).first()
    if review is None or review.organisation.onboarding_reviews.first() != review:
        return 0  # a later decision replaced this one: only the latest is news
    recipients = selectors.notification_recipients(review.organisation, selectors.Topic.SECURITY)
    link = mail.absolute(reverse("accounts:dashboard", args=[review.organisation_id]))
    context = {"review": review, "organisation": review.organisation, "link": link}
    return _send_once(notice, "onboarding_decision", recipients, context)


@shared_task
def send_closure_notice(organisation_id: int, notice: str) -> int:
    organisation = Organisation.objects.filter(pk=organisation_id, status=Organisation.Status.CLOSED).first()
    if organisation is None:
        return 0
    recipients = selectors.notification_recipients(organisation, selectors.Topic.SECURITY)
    return _send_once(notice, "organisation_closed", recipients, {"organisation": organisation})


@shared_task
def send_organisation_notice(organisation_id: int, topic: str, subject: str, body: str, notice: str) -> int:
    """A service update, statement or security notice (P12), to the recipients the settings name now."""
    organisation = Organisation.objects.exclude(status=Organisation.Status.CLOSED).filter(pk=organisation_id).first()
    if organisation is None:
        return 0  # closed since: its people were told about that, and the service is no longer theirs
    recipients = selectors.notification_recipients(organisation, topic)
    context = {"organisation": organisation, "subject": subject, "body": body, "topic": topic}
    return _send_once(notice, "organisation_notice", recipients, context)


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
    for email in selectors.active_client_users().values_list("email", flat=True).iterator():
        batch.append(EmailMessage(subject=subject, body=body, to=[email]))
        if len(batch) == 100:
            sent += mailers.default.send_messages(batch) or 0
            batch = []
    if batch:
        sent += mailers.default.send_messages(batch) or 0
    logger.info("Policy %s v%s: e-mailed %s client users.", document.kind, document.version, sent)
    return sent
