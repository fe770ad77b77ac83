"""Writes for website enquiries: submission, acknowledgement, replies, resolution, purge (P09, P33)."""

import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from nextsupport import audit, mail, privacy

from .models import ENQUIRY_RETENTION_DAYS, RESOLVED_ENQUIRY_GRACE_DAYS, Enquiry, EnquiryReply

ENQUIRY_RESOLVED = "compliance.enquiry_resolved"
ENQUIRY_REOPENED = "compliance.enquiry_reopened"
ENQUIRY_REPLIED = "compliance.enquiry_replied"
ENQUIRIES_PURGED = "compliance.enquiries_purged"


@transaction.atomic
def enquiry_submit(*, name: str, email: str, subject: str, message: str) -> Enquiry:
    """Store an enquiry and queue the acknowledgement to the sender."""
    from .tasks import send_enquiry_acknowledgement

    enquiry = Enquiry.objects.create(name=name, email=email, subject=subject, message=message)
    send_enquiry_acknowledgement.delay_on_commit(enquiry.pk)
    return enquiry


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    context = {**context, "site_url": settings.SITE_URL.rstrip("/"), "compliance_email": settings.COMPLIANCE_EMAIL}
    mail.send(to=to, subject=subject, body=render_to_string(template, context))


def _one_line(text: str) -> str:
    # A header is one line; enquiries stored before the form refused line breaks may hold some.
    return " ".join(text.split())


def enquiry_acknowledge(*, enquiry_id: int) -> bool:
    """Send the acknowledgement once (nextsupport.mail.send_once)."""

    def send():
        enquiry = Enquiry.objects.get(pk=enquiry_id)
        # The message is not echoed back: an address typed by someone else must not receive their text.
        _send(
            to=enquiry.email,
            subject="We have received your message",
            template="compliance/email/enquiry_acknowledgement.txt",
            context={"enquiry": enquiry, "retention_days": ENQUIRY_RETENTION_DAYS, "grace_days": RESOLVED_ENQUIRY_GRACE_DAYS},
        )

    return mail.send_once(
        Enquiry.objects.filter(pk=enquiry_id),
        sent="acknowledged_at",
        sending="acknowledgement_sending_since",
        error="acknowledgement_error",
        send=send,
    )


@transaction.atomic
def enquiry_reply(*, enquiry: Enquiry, body: str, sender, request=None) -> EnquiryReply:
    """Record a reply and queue its e-mail to the enquirer."""
    from .tasks import send_enquiry_reply

    if not body.strip():
        raise ValueError("A reply needs some text.")
    reply = EnquiryReply.objects.create(enquiry=enquiry, body=body, sent_by=sender)
    audit.record(ENQUIRY_REPLIED, request=request, actor=sender, target=enquiry, details={"reply_id": reply.pk})
    send_enquiry_reply.delay_on_commit(reply.pk)
    return reply


def enquiry_reply_send(*, reply_id: int) -> bool:
    """E-mail a recorded reply once (nextsupport.mail.send_once)."""

    def send():
        reply = EnquiryReply.objects.select_related("enquiry").get(pk=reply_id)
        _send(
            to=reply.enquiry.email,
            subject=f"Re: {_one_line(reply.enquiry.subject)}",
            template="compliance/email/enquiry_reply.txt",
            context={"reply": reply, "enquiry": reply.enquiry},
        )

    return mail.send_once(EnquiryReply.objects.filter(pk=reply_id), send=send)


@transaction.atomic
def enquiry_resolve(*, enquiry: Enquiry, actor, request=None) -> Enquiry:
    """Mark resolved; the purge deletes it RESOLVED_ENQUIRY_GRACE_DAYS later (P33)."""
    updated = Enquiry.objects.filter(pk=enquiry.pk, status=Enquiry.Status.OPEN).update(
        status=Enquiry.Status.RESOLVED, resolved_at=timezone.now()
    )
    if updated:
        audit.record(ENQUIRY_RESOLVED, request=request, actor=actor, target=enquiry)
    enquiry.refresh_from_db(fields=["status", "resolved_at"])
    return enquiry


@transaction.atomic
def enquiry_reopen(*, enquiry: Enquiry, actor, request=None) -> Enquiry:
    updated = Enquiry.objects.filter(pk=enquiry.pk, status=Enquiry.Status.RESOLVED).update(
        status=Enquiry.Status.OPEN, resolved_at=None
    )
    if updated:
        audit.record(ENQUIRY_REOPENED, request=request, actor=actor, target=enquiry)
    enquiry.refresh_from_db(fields=["status", "resolved_at"])
    return enquiry


def expired_enquiries(now: datetime.datetime | None = None):
    """Enquiries past retention: the registry's year after arrival, or resolved more than the grace period ago."""
    now = now or timezone.now()
    resolved_long_ago = Enquiry.objects.filter(
        status=Enquiry.Status.RESOLVED, resolved_at__lt=now - datetime.timedelta(days=RESOLVED_ENQUIRY_GRACE_DAYS)
    )
    return privacy.registration_for(Enquiry).expired(now) | resolved_long_ago


@transaction.atomic
def enquiries_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete expired enquiries with their replies; the audit trail gets the count, never the contents (P34)."""
    deleted = privacy.registration_for(Enquiry).erase(expired_enquiries(now))
    if deleted:
        audit.record(ENQUIRIES_PURGED, actor_label="task:purge_enquiries", details={"deleted": deleted})
    return deleted
