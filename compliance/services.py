"""Writes for website enquiries: submission, acknowledgement, replies, resolution (P09, P33).

Their retention (P33) is the registry's rule, run by compliance.retention."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from nextsupport import audit, mail

from .events import LEGAL_HOLD_LIFTED, LEGAL_HOLD_PLACED, RETENTION_RULE_CHANGED
from .models import ENQUIRY_RETENTION_DAYS, RESOLVED_ENQUIRY_GRACE_DAYS, Enquiry, EnquiryReply

ENQUIRY_RESOLVED = "compliance.enquiry_resolved"
ENQUIRY_REOPENED = "compliance.enquiry_reopened"
ENQUIRY_REPLIED = "compliance.enquiry_replied"


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


# --- Retention (compliance.retention, docs/retention.md) ------------------------------------


@transaction.atomic
def retention_rule_set(*, rule, days: int | None, reason: str, by, request=None):
    """Change a rule's period. Shorter than the policy: allowed. Longer: only with a recorded reason.

    Raises ValidationError (naming the field) when the change is refused.
    """
    previous = rule.effective_days
    rule.days, rule.reason = days, reason.strip()
    rule.full_clean()
    rule.changed_by, rule.changed_at = by, timezone.now()
    rule.save(update_fields=["days", "reason", "changed_by", "changed_at"])
    audit.record(
        RETENTION_RULE_CHANGED,
        request=request,
        actor=by,
        target=rule,
        reason=rule.reason,
        details={"model": rule.model_label, "from_days": previous, "to_days": rule.effective_days},
    )
    return rule


@transaction.atomic
def legal_hold_place(*, hold, by, request=None):
    """Record a legal hold; from now on the purge skips what it covers."""
    if not hold.reason.strip():
        raise ValidationError({"reason": "A legal hold needs its reason: the matter, claim or authority it is for."})
    hold.placed_by = by
    hold.full_clean()
    hold.save()
    audit.record(LEGAL_HOLD_PLACED, request=request, actor=by, target=hold, organisation_id=hold.organisation_id)
    return hold


@transaction.atomic
def legal_hold_lift(*, hold, by, request=None) -> bool:
    """Lift a hold (once); what it covered is purged by the next run if its time has come."""
    lifted = type(hold).objects.filter(pk=hold.pk, lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=by)
    if lifted:
        audit.record(LEGAL_HOLD_LIFTED, request=request, actor=by, target=hold, organisation_id=hold.organisation_id)
    return bool(lifted)
