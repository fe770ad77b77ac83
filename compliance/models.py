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


# --- Erasure and rectification ---
# Written by compliance.erasure. The erasure log holds only what is needed to
# erase the same person again after a database restore: blind indexes and ids,
# never a number, an address or a name (issue 13's replay).


@privacy.register(
    category=privacy.Category.DATA_SUBJECT_REQUEST,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reference", "erased_at"),
    subject={"phone": "phone_index", "email": "email_index", "user": "user_id", "cookie_consent": "cookie_consent_id"},
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.RETAIN,
        basis="P37: kept as long as a backup from before the erasure could be restored, so that the erasure is "
        "applied again after any restore; it holds one-way fingerprints and ids only.",
    ),
    # Erasing it would let a restore bring the erased data back.
    erasure=privacy.Action.RETAIN,
    erasure_note="Kept: a note that your data was erased, holding only one-way fingerprints, so that it stays "
    "erased even if we ever have to restore our systems from a backup.",
)
class ErasureLogEntry(models.Model):
    """One erasure carried out: whose (as digests and ids), for which controllers, and what it removed (counts)."""

    reference = models.CharField(max_length=40, help_text="The data-subject request's public reference.")
    # "all" or the sorted controllers erased for ("nextsupport", organisation ids), so a repeat finds its entry.
    scope = models.CharField(max_length=200, default="all")
    organisation_ids = models.JSONField(null=True, blank=True, help_text="Controllers erased for; empty means every one.")
    phone_index = BlindIndexField(purpose="phone", null=True)
    email_index = BlindIndexField(purpose="email", null=True)
    # Plain ids, not foreign keys: the log must hold after the rows it names are gone or restored.
    # Indexed, as every identifier discovery ORs together must be, or the log is read in full.
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    cookie_consent_id = models.UUIDField(null=True, blank=True, db_index=True)
    # [{"category", "organisation_id", "action", "count", "note"}]: counts and plain notes, never content.
    receipt = models.JSONField(default=list, blank=True)
    erased_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="Every step ran; empty if it stopped mid-way.")
    replayed_at = models.DateTimeField(null=True, blank=True, help_text="Last re-applied after a restore.")
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["erased_at", "id"]
        verbose_name = "erasure log entry"
        verbose_name_plural = "erasure log"
        constraints = [models.UniqueConstraint(fields=["reference", "scope"], name="one_erasure_log_entry_per_request_scope")]

    def __str__(self):
        return f"Erasure for {self.reference} ({self.erased_at:%d %b %Y})"


class PendingFileDeletion(models.Model):
    """A stored file an erasure or purge could not delete: retried until it is gone, never forgotten."""

    storage = models.CharField(max_length=40, help_text="The storage alias (settings.STORAGES).")
    name = models.CharField(max_length=300)
    reference = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.CharField(max_length=200, blank=True, help_text="The kind of error only.")
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["storage", "name"], name="one_pending_deletion_per_file")]

    def __str__(self):
        return f"{self.storage}:{self.name}"


@privacy.register(
    category=privacy.Category.DATA_SUBJECT_REQUEST,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("before", "after"),
    subject={"phone": "phone_index", "email": "email_index", "user": "user_id"},
    exporter=lambda r: {
        "model": "compliance.Rectification",
        "id": r.pk,
        "corrected": r.label,
        "record": r.object_id,
        "fields": r.fields_changed,
        "before": r.before,
        "after": r.after,
        "request": r.reference,
        "created_at": r.created_at.isoformat(),
    },
    retention=privacy.Retention(
        days=6 * 366,
        after="created_at",
        action=privacy.Action.ANONYMISE,
        basis="P36: the record of a correction is kept 6 years (the limitation period), as evidence the request was met.",
    ),
    erasure=privacy.Action.ANONYMISE,
    anonymised={"before": None, "after": None},
    erasure_note="Anonymised: the values before and after a correction are deleted; the fact that a correction was made stays.",
)
class Rectification(models.Model):
    """A correction of one row's personal data: the values before and after (encrypted), who, when, for which request."""

    label = models.CharField(max_length=100, help_text="The model corrected, e.g. consumers.Consumer.")
    object_id = models.CharField(max_length=64)
    fields_changed = models.JSONField(default=list, help_text="Names of the fields corrected.")
    before = EncryptedTextField(null=True, blank=True, help_text="JSON of the old values.")
    after = EncryptedTextField(null=True, blank=True, help_text="JSON of the new values.")
    reference = models.CharField(max_length=40, blank=True)
    # Whose data it is, so that discovery finds the correction and erasure clears it.
    phone_index = BlindIndexField(purpose="phone", null=True)
    email_index = BlindIndexField(purpose="email", null=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # discovery looks corrections up by it
    organisation_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Correction of {self.label} #{self.object_id}"
