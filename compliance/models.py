"""Enquiries from the website's contact form (P09, P33).

What a visitor sends serves only their enquiry: it is encrypted, answered from
the admin (each reply is kept with who sent it and when), and deleted one year
after it arrived, or 30 days after it was resolved if that comes first.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from nextsupport import privacy
from nextsupport.fields import BlindIndexField, EncryptedEmailField, EncryptedTextField

ENQUIRY_RETENTION_DAYS = 365
RESOLVED_ENQUIRY_GRACE_DAYS = 30
SENDING_SINCE_HELP = (
    "When a worker began sending it. Left set if the worker stopped mid-send: the e-mail may have left, "
    "so it is never sent again automatically."
)
SEND_ERROR_HELP = "Why the last attempt to send it failed: the kind of error only, never its text (it can hold the address)."


@privacy.register(
    category=privacy.Category.FORM_SUBMISSION,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("name", "email", "subject", "message", "received_at"),
    subject={"email": "email_index"},
    retention=privacy.Retention(
        days=ENQUIRY_RETENTION_DAYS,
        after="received_at",
        action=privacy.Action.DELETE,
        basis=f"P33: kept 1 year, or {RESOLVED_ENQUIRY_GRACE_DAYS} days after the enquiry is resolved if sooner.",
    ),
    erasure=privacy.Action.DELETE,
)
class Enquiry(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    name = EncryptedTextField(max_length=150)
    email = EncryptedEmailField(max_length=254)
    email_index = BlindIndexField(source="email")
    subject = EncryptedTextField(max_length=150)
    message = EncryptedTextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="When the acknowledgement e-mail was sent.")
    acknowledgement_sending_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    acknowledgement_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "enquiries"

    def __str__(self):
        return f"Enquiry #{self.pk} ({self.get_status_display()}, received {self.received_at:%d %b %Y})"


@privacy.register(
    category=privacy.Category.FORM_SUBMISSION,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("body", "sent_at"),
    subject={"email": "enquiry__email_index"},
    retention=privacy.Retention(
        days=ENQUIRY_RETENTION_DAYS,
        after="enquiry__received_at",
        action=privacy.Action.DELETE,
        basis="P33: replies go with their enquiry.",
    ),
    erasure=privacy.Action.DELETE,
)
class EnquiryReply(models.Model):
    """A reply staff sent to the enquirer by e-mail, kept as part of the enquiry."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="replies")
    body = EncryptedTextField(max_length=10000)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the e-mail left us; empty while it is queued.")
    sending_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    send_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "enquiry replies"

    def __str__(self):
        return f"Reply to enquiry #{self.enquiry_id} ({self.created_at:%d %b %Y %H:%M})"
