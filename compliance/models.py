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
        sooner=(privacy.Sooner(days=RESOLVED_ENQUIRY_GRACE_DAYS, after="resolved_at"),),
        survives="Nothing: the enquiry and its replies are deleted.",
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
        sooner=(privacy.Sooner(days=RESOLVED_ENQUIRY_GRACE_DAYS, after="enquiry__resolved_at"),),
        survives="Nothing: replies are deleted with their enquiry.",
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


# --- Retention (compliance.retention, docs/retention.md) ------------------------------------
# The periods themselves are the personal-data registry's (nextsupport.privacy);
# these tables hold what staff change or place on top of them, and what each run did.


class RetentionRule(models.Model):
    """The rule for one registered model: the registry's period, or a shorter one staff set (P29-P33).

    One row per registration, created by the engine (`retention.rules_sync`).
    A period longer than the policy's is refused unless the reason is recorded.
    """

    model_label = models.CharField(max_length=100, unique=True, editable=False)
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days the data is kept. Empty: the privacy policy's period."
    )
    reason = models.TextField(
        blank=True, help_text="Why the period differs from the policy's. Required to keep data longer than the policy."
    )
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_label"]
        verbose_name = "retention rule"

    def __str__(self):
        return self.model_label

    @property
    def registration(self) -> privacy.Registration | None:
        for registration in privacy.registrations():
            if registration.label == self.model_label:
                return registration
        return None

    @property
    def policy_days(self) -> int | None:
        return self.registration.retention.days

    @property
    def effective_days(self) -> int | None:
        return self.policy_days if self.days is None else self.days

    def clean(self):
        from django.core.exceptions import ValidationError

        registration = self.registration
        if registration is None:
            raise ValidationError(f"{self.model_label} is no longer in the personal-data registry.")
        if self.days is None:
            return
        if not registration.retention.runs:
            raise ValidationError(
                {"days": f"{self.model_label} is not kept for a period that can be changed here: {registration.retention.basis}"}
            )
        if self.days > registration.retention.days and not self.reason.strip():
            raise ValidationError(
                {
                    "reason": f"{self.days} days is longer than the privacy policy's {registration.retention.days} days "
                    f"for {self.model_label}: record the reason (for example a legal obligation), or keep a period "
                    "no longer than the policy's."
                }
            )


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(models.Q(until__isnull=True) | models.Q(until__gt=now))


class LegalHold(models.Model):
    """Data the purge must not touch while a legal reason stands (a claim, an investigation).

    Covers one object, one consumer (with their calls, recordings and list
    entries) or a whole organisation, until a date or until lifted. Held rows
    are skipped by every retention rule and counted on the run's receipts.
    """

    class Scope(models.TextChoices):
        OBJECT = "object", "One record"
        CONSUMER = "consumer", "A consumer and everything about them"
        ORGANISATION = "organisation", "A whole organisation"

    scope = models.CharField(max_length=12, choices=Scope.choices)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Ids, not foreign keys: a hold must not be removed with what it protects, nor stop it being erased on request.
    consumer_id = models.BigIntegerField(null=True, blank=True, help_text="The consumer's id (scope: consumer).")
    target_model = models.CharField(
        max_length=100, blank=True, help_text="The record's model, as app.Model (scope: one record), e.g. campaigns.Call."
    )
    target_id = models.CharField(max_length=64, blank=True, help_text="The record's id (scope: one record).")
    reason = models.TextField(help_text="Why the data must be kept: the matter, the authority or claim.")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until lifted.")
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="organisation", organisation__isnull=False)
                    | models.Q(scope="consumer", consumer_id__isnull=False)
                    | (models.Q(scope="object") & ~models.Q(target_model="") & ~models.Q(target_id=""))
                ),
                name="legal_hold_names_what_it_holds",
            )
        ]

    def __str__(self):
        target = {
            self.Scope.ORGANISATION: f"organisation #{self.organisation_id}",
            self.Scope.CONSUMER: f"consumer #{self.consumer_id}",
            self.Scope.OBJECT: f"{self.target_model} #{self.target_id}",
        }[self.scope]
        return f"Hold on {target}"

    def clean(self):
        from django.apps import apps
        from django.core.exceptions import ValidationError

        if self.scope == self.Scope.ORGANISATION and self.organisation_id is None:
            raise ValidationError({"organisation": "Choose the organisation to hold."})
        if self.scope == self.Scope.CONSUMER and self.consumer_id is None:
            raise ValidationError({"consumer_id": "Give the id of the consumer to hold."})
        if self.scope == self.Scope.OBJECT:
            if not (self.target_model and self.target_id):
                raise ValidationError({"target_model": "Give the record's model (app.Model) and its id."})
            try:
                model = apps.get_model(self.target_model)
            except (LookupError, ValueError):
                raise ValidationError(
                    {"target_model": f"{self.target_model!r} is not a model: write it as app.Model, e.g. campaigns.Call."}
                ) from None
            if not model._base_manager.filter(pk=self.target_id).exists():
                raise ValidationError({"target_id": f"There is no {self.target_model} with id {self.target_id}."})
        if self.until is not None and self.until <= timezone.now():
            raise ValidationError({"until": "The end of a hold must be in the future."})


class RetentionRun(models.Model):
    """One run of the purge or the under-16 sweep; its receipts say what it did (P34)."""

    class Kind(models.TextChoices):
        PURGE = "purge", "Retention purge"
        MINORS = "minors", "Under-16 sweep"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        INTERRUPTED = "interrupted", "Interrupted (the next run carried on)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_by = models.CharField(max_length=100, help_text="A task, 'manage.py' or a staff user, as a label.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.get_kind_display()} of {self.started_at:%d %b %Y %H:%M}"


class RetentionReceipt(models.Model):
    """What one run did to one rule's data: counts and time only, never the data (P34).

    Counts are updated in the same transaction as each batch, so a run that
    died still has an exact receipt of what it committed.
    """

    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="receipts")
    category = models.CharField(max_length=32, choices=privacy.Category.choices)
    model_label = models.CharField(max_length=100)
    action = models.CharField(max_length=10, choices=privacy.Action.choices)
    deleted = models.PositiveBigIntegerField(default=0)
    anonymised = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(
        default=0, help_text="Expired but left for the next run: locked by other work at the time."
    )
    held = models.PositiveBigIntegerField(default=0, help_text="Expired but under a legal hold.")
    files_deleted = models.PositiveBigIntegerField(default=0)
    files_pending = models.PositiveBigIntegerField(
        default=0, help_text="Stored files that could not be deleted yet: retried by every run until gone."
    )
    seconds = models.FloatField(default=0)
    error = models.CharField(
        max_length=100, blank=True, help_text="Why this rule stopped part-way: the kind of error only. The next run carries on."
    )

    class Meta:
        ordering = ["run", "category", "model_label"]
        constraints = [models.UniqueConstraint(fields=["run", "model_label"], name="one_receipt_per_run_and_rule")]

    def __str__(self):
        return f"{self.model_label}: {self.deleted} deleted, {self.anonymised} anonymised, {self.held} held"


class StorageDeletion(models.Model):
    """A stored file whose row is gone and which must go too; removed from here once it is checked gone.

    Queued in the transaction that deletes the row, so no file is ever forgotten,
    even if the process dies before the storage answers.
    """

    storage = models.CharField(max_length=40, help_text="The storage alias (settings.STORAGES).")
    name = models.CharField(max_length=500)
    model_label = models.CharField(max_length=100)
    queued_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True, help_text="The kind of error only.")

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [models.UniqueConstraint(fields=["storage", "name"], name="one_deletion_per_stored_file")]

    def __str__(self):
        return f"File of {self.model_label} in {self.storage} (tried {self.attempts} times)"
