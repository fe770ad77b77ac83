"""The accounts app's e-mails: each function re-fetches what its task names, sends
nothing for a row that no longer needs it, and sends through nextsupport.mail, once
per recipient. Messages come from templates/accounts/email/<name>_subject.txt and
<name>_message.txt; the tasks in accounts.tasks only call these."""

import logging

from django.conf import settings
from django.urls import reverse

from nextsupport import mail
from nextsupport.models import PolicyDocument
from nextsupport.views import policy_url

from . import selectors
from .models import APIKey, Invitation, Notice, OnboardingReview, Organisation, User
from .selectors import Recipient

logger = logging.getLogger(__name__)


def send_notice(notice: str, name: str, recipients: list[Recipient], context: dict) -> int:
    """Send e-mail `name` to each recipient not yet reached under `notice`; how many were sent now."""
    rows = Notice.objects.filter(key=notice)
    subject, body = mail.render(f"accounts/email/{name}", context)
    sent = 0

    def send_all():
        nonlocal sent
        reached = set(rows.values_list("sent_to", flat=True).first() or [])
        for recipient in recipients:
            if recipient.tag in reached:
                continue  # a retry after a failure part-way: this one already has it
            mail.send(to=recipient.email, subject=subject, body=body)
            reached.add(recipient.tag)
            rows.update(sent_to=sorted(reached))
            sent += 1

    mail.send_once(rows, send=send_all)
    return sent


def _person(user: User) -> list[Recipient]:
    return [Recipient(f"user:{user.pk}", user.email)]


def invitation(*, invitation_id: int, notice: str) -> int:
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return 0
    if notice != Notice.key_for("invitation", invitation.pk, invitation.nonce):
        return 0  # the invitation was re-sent since: only the newest link goes out, by its own task
    link = mail.absolute(reverse("accounts:invitation", args=[invitation.token()]))
    recipients = [Recipient(f"invitation:{invitation.pk}", invitation.email)]
    return send_notice(notice, "invitation", recipients, {"invitation": invitation, "link": link})


def lockout(*, user_id: int, notice: str) -> int:
    """Sign-in attempts for the address were paused (accounts.sign_in_limits): tell its owner, once per pause."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    reset = mail.absolute(reverse("account_reset_password"))
    context = {"user": user, "reset_link": reset, "minutes": settings.SIGN_IN_LOCKOUT_MINUTES}
    return send_notice(notice, "account_locked", _person(user), context)


def security(*, user_id: int, what: str, notice: str) -> int:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    link = mail.absolute(reverse("accounts:security"))
    return send_notice(notice, f"security_{what}", _person(user), {"user": user, "security_link": link})


def api_key_created(*, api_key_id: int, notice: str) -> int:
    key = APIKey.objects.select_related("organisation", "created_by").filter(pk=api_key_id).first()
    if key is None or key.revoked_at:
        return 0
    recipients = selectors.notification_recipients(key.organisation, selectors.Topic.SECURITY)
    link = mail.absolute(reverse("accounts:api-keys", args=[key.organisation_id]))
    return send_notice(notice, "api_key_created", recipients, {"key": key, "link": link})


def onboarding_decision(*, review_id: int, notice: str) -> int:
    review = OnboardingReview.objects.select_related("organisation").filter(pk=review_id).first()
    if review is None or review.organisation.onboarding_reviews.first() != review:
        return 0  # a later decision replaced this one: only the latest is news
    recipients = selectors.notification_recipients(review.organisation, selectors.Topic.SECURITY)
    link = mail.absolute(reverse("accounts:dashboard", args=[review.organisation_id]))
    context = {"review": review, "organisation": review.organisation, "link": link}
    return send_notice(notice, "onboarding_decision", recipients, context)


def organisation_closed(*, organisation_id: int, notice: str) -> int:
    organisation = Organisation.objects.filter(pk=organisation_id, status=Organisation.Status.CLOSED).first()
    if organisation is None:
        return 0
    recipients = selectors.notification_recipients(organisation, selectors.Topic.SECURITY)
    return send_notice(notice, "organisation_closed", recipients, {"organisation": organisation})


def organisation_notice(*, organisation_id: int, topic: str, subject: str, body: str, notice: str) -> int:
    """A service update, statement or security notice (P12), to the recipients the settings name now."""
    organisation = Organisation.objects.exclude(status=Organisation.Status.CLOSED).filter(pk=organisation_id).first()
    if organisation is None:
        return 0  # closed since: its people were told about that, and the service is no longer theirs
    recipients = selectors.notification_recipients(organisation, topic)
    link = mail.absolute(reverse("accounts:notifications", args=[organisation.pk]))
    context = {"organisation": organisation, "subject": subject, "body": body, "topic": topic, "settings_link": link}
    return send_notice(notice, "organisation_notice", recipients, context)


def policy_changed(*, document_id: int, user_id: int, notice: str) -> int:
    """One client user's e-mail about a significant policy change (P53)."""
    document = PolicyDocument.objects.filter(pk=document_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if document is None or user is None:
        return 0
    path = policy_url(document.kind) or ""
    context = {"document": document, "url": mail.absolute(path) if path else "", "compliance_email": settings.COMPLIANCE_EMAIL}
    return send_notice(notice, "policy_changed", _person(user), context)


def account_email(*, notice: str, to: str, subject: str, body: str) -> int:
    """An e-mail allauth composed (password reset, address confirmation...), rendered already in our words."""
    rows = Notice.objects.filter(key=notice)
    return int(mail.send_once(rows, send=lambda: mail.send(to=to, subject=subject, body=body)))
