"""Enquiries from the website's contact form (P09, P33).

What a visitor sends serves only their enquiry: it is encrypted, answered from
the admin (each reply is kept with who sent it and when), and deleted one year
after it arrived, or 30 days after it was resolved if that comes first.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from nextsupport import privacy
from nextsupport.fields import BlindIndexField, EncryptedEmailField, EncryptedPhoneField, EncryptedTextField

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
    """A stored file whose row is gone (a purge) or erased (a request) and which must go too; removed from
    here once it is checked gone. The one queue of stored files for retention and erasure.

    Queued in the transaction that deletes the row, so no file is ever forgotten,
    even if the process dies before the storage answers.
    """

    storage = models.CharField(max_length=40, help_text="The storage alias (settings.STORAGES).")
    name = models.CharField(max_length=500)
    model_label = models.CharField(max_length=100)
    reference = models.CharField(max_length=40, blank=True, help_text="The data-subject request, when an erasure queued it.")
    queued_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True, help_text="The kind of error only.")

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [models.UniqueConstraint(fields=["storage", "name"], name="one_deletion_per_stored_file")]

    def __str__(self):
        return f"File of {self.model_label} in {self.storage} (tried {self.attempts} times)"


# --- Data-subject requests ---------------------------------------------------------------------
# The workflow of a request (compliance.requests): intake, verification, the clock
# (compliance.deadlines), the parts forwarded to clients as controllers (P43), receipts.

REQUEST_RETENTION_DAYS = 6 * 365


class RequestKind(models.TextChoices):
    ACCESS = "access", "A copy of my data (access)"
    RECTIFICATION = "rectification", "Correct my data (rectification)"
    ERASURE = "erasure", "Delete my data (erasure)"
    RESTRICTION = "restriction", "Stop using my data but keep it (restriction)"
    PORTABILITY = "portability", "My data in a machine-readable file (portability)"
    OBJECTION = "objection", "Object to the use of my data, including marketing (objection)"
    WITHDRAW_CONSENT = "withdraw_consent", "Withdraw my consent (marketing calls, cookies)"


class RefusalGround(models.TextChoices):
    MANIFESTLY_UNFOUNDED = "unfounded", "Manifestly unfounded (UK GDPR Art. 12(5))"
    MANIFESTLY_EXCESSIVE = "excessive", "Manifestly excessive (UK GDPR Art. 12(5))"
    IDENTITY_NOT_CONFIRMED = "identity", "Identity could not be confirmed (UK GDPR Art. 12(6))"
    LEGAL_OBLIGATION = "legal_obligation", "The data must be kept by law (UK GDPR Art. 17(3)(b))"
    LEGAL_CLAIMS = "legal_claims", "Needed for legal claims (UK GDPR Art. 17(3)(e))"
    EXEMPTION = "exemption", "An exemption of the Data Protection Act 2018, Schedule 2"


@privacy.register(
    category=privacy.Category.DATA_SUBJECT_REQUEST,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reference", "kind", "name", "phone", "email", "cookie_consent_id", "details", "received_at", "state", "receipt"),
    subject={"phone": "phone_index", "email": "email_index"},
    # The access copy goes with its request if it is still stored then (request_copies_expire removes it sooner).
    files={"package_name": "default"},
    retention=privacy.Retention(
        days=REQUEST_RETENTION_DAYS,
        after="received_at",
        action=privacy.Action.DELETE,
        basis="P14: requests and how we answered them are kept six years as evidence (limitation period for claims).",
    ),
    # Evidence that we answered the request is itself what a legal claim would need.
    erasure=privacy.Action.RETAIN,
)
class DataSubjectRequest(models.Model):
    """One request from a person about their data; the clock starts when their identity is verified."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        AWAITING_VERIFICATION = "awaiting_verification", "Awaiting verification"
        IN_PROGRESS = "in_progress", "In progress"
        AWAITING_CLIENT = "awaiting_client", "Awaiting client (forwarded)"
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"

    class Channel(models.TextChoices):
        WEB = "web", "Website form"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        POST = "post", "Post"

    OPEN_STATES = (State.RECEIVED, State.AWAITING_VERIFICATION, State.IN_PROGRESS, State.AWAITING_CLIENT)
    CLOCK_STATES = (State.IN_PROGRESS, State.AWAITING_CLIENT)

    # Set from the id right after the insert ("DSR-2026-000123"); NULL until then, so unique still holds.
    reference = models.CharField(max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    state = models.CharField(max_length=24, choices=State.choices, default=State.RECEIVED, db_index=True)
    name = EncryptedTextField(max_length=150, blank=True, null=True)
    phone = EncryptedPhoneField(blank=True, null=True)
    phone_index = BlindIndexField(source="phone")
    email = EncryptedEmailField(max_length=254, blank=True, null=True)
    email_index = BlindIndexField(source="email")
    details = EncryptedTextField(
        max_length=5000, blank=True, null=True, help_text="What the person asked for, in their words (e.g. what to correct)."
    )
    cookie_consent_id = EncryptedTextField(
        max_length=32, blank=True, null=True, help_text="The cookie-consent id the requester's browser held (sealed by us)."
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=200, blank=True, help_text="How identity was confirmed.")
    # The clock (compliance.deadlines): paused spans as [start, end or null] ISO dates.
    pauses = models.JSONField(default=list, blank=True)
    pause_reason = models.CharField(max_length=300, blank=True)
    extension_days = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True, db_index=True, help_text="UK calendar day; moves with pauses.")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_requests"
    )
    refusal_ground = models.CharField(max_length=20, choices=RefusalGround.choices, blank=True)
    refusal_detail = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What was done, line by line (compliance.erasure.ReceiptLine as dicts): shown to the requester and kept.
    receipt = models.JSONField(default=list, blank=True)
    package_name = models.CharField(max_length=300, blank=True, help_text="The encrypted package in storage.")
    package_created_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(
        null=True, blank=True, help_text="When discovery and NextSupport's own actions ran (once)."
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "data-subject request"

    def __str__(self):
        return self.reference or f"Request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


@privacy.register(
    category=privacy.Category.DATA_SUBJECT_REQUEST,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("note",),
    subject={"phone": "request__phone_index", "email": "request__email_index"},
    retention=privacy.Retention(
        days=REQUEST_RETENTION_DAYS,
        after="occurred_at",
        action=privacy.Action.DELETE,
        basis="P14: the steps of a request are kept with it, six years.",
    ),
    erasure=privacy.Action.RETAIN,
)
class RequestEvent(models.Model):
    """The timeline of a request: every step, and staff's internal notes (never shown to the requester)."""

    class Kind(models.TextChoices):
        STEP = "step", "Step"
        NOTE = "note", "Internal note"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STEP)
    action = models.CharField(max_length=60)
    note = EncryptedTextField(max_length=5000, blank=True, null=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.request}: {self.action}"


class VerificationChallenge(models.Model):
    """A one-time link and code sent to one of the request's identifiers. Only their digests are kept."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="challenges")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The link's token and the code are derived from this with SECRET_KEY (compliance.requests), never
    # stored: a copy of the database alone cannot verify anyone. The token's SHA-256 finds the row.
    nonce = models.CharField(max_length=64)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    send_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_channel_display()} check for {self.request}"


class RequestPart(models.Model):
    """The share of a request whose controller is a client (P43): forwarded to its inbox, answered there."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the client"
        DONE = "done", "Done by the client"
        REFUSED = "refused", "Refused by the client"
        DELEGATED = "delegated", "Carried out by NextSupport at the client's request"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="parts")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="data_subject_requests")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    item_count = models.PositiveIntegerField(default=0)
    categories = models.JSONField(default=list, help_text="Labels of the categories of data held for this client.")
    forwarded_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_note = models.TextField(blank=True)
    receipt = models.JSONField(default=list, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notifying_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    notify_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)

    class Meta:
        ordering = ["-forwarded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["request", "organisation"], name="one_part_per_controller")]

    def __str__(self):
        return f"{self.request} for organisation #{self.organisation_id}"


class RequestMessage(models.Model):
    """One e-mail about a request, sent once (nextsupport.mail.send_once): to the requester (completed,
    refused, extended) or to the compliance team (alert_overdue, alert_due_soon: once per request and state)."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    send_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "kind"], name="one_message_per_request_and_kind")]

    def __str__(self):
        return f"{self.kind} e-mail for {self.request}"


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


# --- Breaches ---------------------------------------------------------------------------------
# The personal-data breach register (P44-P47). Clocks run from `aware_at`; the rules that turn
# them into due dates live in compliance/breaches.py only.


class RiskLevel(models.TextChoices):
    UNASSESSED = "unassessed", "Not assessed yet"
    NONE = "none", "Unlikely to result in a risk to people"
    RISK = "risk", "A risk to people's rights and freedoms"
    HIGH = "high", "A high risk to people's rights and freedoms"


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Not known yet"
    NOT_APPLICABLE = "n/a", "Not applicable"


@privacy.register(
    category=privacy.Category.SECURITY_LOG,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reported_by", "reporter_email"),
    subject={"email": "reporter_email_index"},
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.RETAIN,
        basis="P47: UK GDPR Art. 33(5) requires a record of every breach, its effects and the remedial action.",
    ),
    erasure=privacy.Action.RETAIN,
)
class Breach(models.Model):
    """One personal-data breach, from first report to close (P44-P47)."""

    class IcoDecision(models.TextChoices):
        PENDING = "", "Not decided yet"
        NOTIFIED = "notified", "Reported to the ICO"
        NOT_REQUIRED = "not_required", "Not reportable (decision recorded)"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200, help_text="A short name for the incident, without personal data.")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When it happened, if known.")
    occurred_until = models.DateTimeField(null=True, blank=True, help_text="When it ended, if it lasted a while.")
    aware_at = models.DateTimeField(help_text="When NextSupport became aware: every deadline runs from here.")
    reported_by = EncryptedTextField(max_length=200, help_text="Who reported it (name and role, or the client).")
    reporter_email = EncryptedEmailField(max_length=254, blank=True, null=True)
    reporter_email_index = BlindIndexField(source="reporter_email")
    description = models.TextField(help_text="What happened and how. Describe the incident, not the people in it.")
    discovered_how = models.TextField(blank=True, help_text="How we found out.")
    cyber_incident = models.CharField(max_length=7, choices=Answer.choices, default=Answer.UNKNOWN)
    # The ICO's own category lists (compliance.breaches.ICO_DATA_CATEGORIES, ICO_PEOPLE_CATEGORIES).
    data_categories = models.JSONField(default=list, blank=True, help_text="Categories of personal data involved.")
    data_categories_detail = models.TextField(blank=True, help_text="Anything the categories do not say (e.g. which fields).")
    people_categories = models.JSONField(default=list, blank=True, help_text="Categories of people affected.")
    people_categories_detail = models.TextField(blank=True)
    approx_records = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of records.")
    approx_people = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of people.")
    affected_organisations = models.ManyToManyField(
        "accounts.Organisation", through="BreachClientNotice", related_name="+", blank=True
    )
    likely_consequences = models.TextField(blank=True)
    staff_trained = models.CharField(
        max_length=7,
        choices=Answer.choices,
        default=Answer.UNKNOWN,
        help_text="Had the staff involved been trained in data protection in the last two years? (The ICO asks.)",
    )
    others_told = models.TextField(blank=True, help_text="Other organisations told: police, other regulators, banks.")
    risk_level = models.CharField(max_length=12, choices=RiskLevel.choices, default=RiskLevel.UNASSESSED)
    assessed_at = models.DateTimeField(null=True, blank=True, editable=False)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    assessment = models.TextField(blank=True, help_text="Scope and risk assessment: why this risk level.")
    ico_decision = models.CharField(max_length=15, choices=IcoDecision.choices, blank=True, default="", editable=False)
    ico_decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    ico_reference = models.CharField(max_length=60, blank=True, editable=False)
    ico_decision_reason = models.TextField(blank=True, editable=False)
    ico_delay_reason = models.TextField(blank=True, editable=False, help_text="Why the ICO was told after 72 hours.")
    individuals_informed_at = models.DateTimeField(null=True, blank=True, editable=False)
    individuals_informed_how = models.CharField(max_length=200, blank=True, editable=False)
    individuals_guidance = models.TextField(blank=True, editable=False, help_text="The guidance sent to the people affected.")
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-aware_at"]
        verbose_name_plural = "breaches"

    def __str__(self):
        return f"{self.reference}: {self.title}"


class BreachClientNotice(models.Model):
    """An affected client, and when it was told through its security notices (P45)."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="client_notices")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="When the notice was queued.")
    notice_key = models.CharField(max_length=120, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "organisation"], name="one_notice_per_breach_client")]
        verbose_name = "affected client"

    def __str__(self):
        return f"{self.organisation} ({'told' if self.notified_at else 'not told yet'})"


class BreachAction(models.Model):
    """A containment or corrective action, with its owner and due date (P47)."""

    class Kind(models.TextChoices):
        CONTAINMENT = "containment", "Containment"
        CORRECTIVE = "corrective", "Corrective"

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} action: {self.description[:60]}"


class BreachAlert(models.Model):
    """The team was e-mailed that a step of a breach is overdue: once per breach and step."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="alerts")
    step = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    sending_since = models.DateTimeField(null=True, blank=True, help_text=SENDING_SINCE_HELP)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=100, blank=True, help_text=SEND_ERROR_HELP)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "step"], name="one_alert_per_breach_step")]

    def __str__(self):
        return f"{self.breach.reference}: {self.step} overdue"


# --- Records and evidence ------------------------------------------------------------------------
# Records of processing (P01, P17), sub-processors (P20, P23), disclosures (P21), training (P27).


class LawfulBasis(models.TextChoices):
    CONTRACT = "contract", "Contract (Art. 6(1)(b))"
    CONSENT = "consent", "Consent (Art. 6(1)(a))"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests (Art. 6(1)(f))"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (Art. 6(1)(c))"
    CLIENT = "client", "The client's basis (NextSupport is processor)"


class TransferSafeguard(models.TextChoices):
    NONE_NEEDED = "uk", "No transfer: stays in the UK"
    ADEQUACY = "adequacy", "UK adequacy regulations"
    IDTA = "idta", "UK International Data Transfer Agreement (IDTA)"
    SCCS_ADDENDUM = "sccs_addendum", "EU SCCs with the UK Addendum"
    NOT_RECORDED = "not_recorded", "Not recorded yet"


class ProcessingActivity(models.Model):
    """What the registry cannot say about one category of data: why, on what basis, who receives it."""

    category = models.CharField(max_length=40, choices=privacy.Category.choices, unique=True)
    purpose = models.TextField()
    lawful_basis = models.CharField(max_length=25, choices=LawfulBasis.choices)
    lawful_basis_detail = models.TextField(blank=True, help_text="e.g. the legitimate interest, or the legal obligation.")
    recipients = models.TextField(help_text="Who receives it: roles of sub-processors, clients, authorities.")
    transfer_safeguard = models.CharField(max_length=15, choices=TransferSafeguard.choices)
    transfer_detail = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]
        verbose_name = "record of processing entry"
        verbose_name_plural = "records of processing"

    def __str__(self):
        return privacy.Category(self.category).label


class SubProcessor(models.Model):
    """A company processing personal data for us (P20), with its transfer safeguard (P23).

    `service` ties a row to what the running configuration uses (compliance.records.services_in_use),
    so the public page and the system check can tell when one is missing.
    """

    class DpaStatus(models.TextChoices):
        SIGNED = "signed", "Signed"
        PROVIDER_TERMS = "provider_terms", "Accepted the provider's data processing terms"
        IN_NEGOTIATION = "negotiating", "In negotiation"
        MISSING = "missing", "None yet"

    name = models.CharField(max_length=200, help_text="The contracting entity, or the role when configuration decides it.")
    service = models.CharField(max_length=60, unique=True, help_text="What it provides, as the configuration names it.")
    purpose = models.CharField(max_length=300)
    data_processed = models.CharField(max_length=300)
    location = models.CharField(max_length=200)
    transfer_safeguard = models.CharField(max_length=15, choices=TransferSafeguard.choices)
    dpa_status = models.CharField(max_length=15, choices=DpaStatus.choices)
    dpa_signed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="Internal: not shown on the public page.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service"]
        verbose_name = "sub-processor"

    def __str__(self):
        return f"{self.name} ({self.service})"


@privacy.register(
    category=privacy.Category.SECURITY_LOG,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("requester_contact", "data_disclosed"),
    # Not found by a data-subject request: telling the subject can prejudice an investigation
    # (DPA 2018 Sch. 2 para 2); staff consult the log by hand when a request arrives.
    subject={},
    retention=privacy.Retention(
        days=6 * 366,
        after="disclosed_at",
        action=privacy.Action.RETAIN,
        basis="P21: kept 6 years as evidence of why and on what basis data left us.",
    ),
    erasure=privacy.Action.RETAIN,
)
class Disclosure(models.Model):
    """Personal data handed to a regulator or law enforcement (P21)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested, under review"
        DISCLOSED = "disclosed", "Disclosed"
        REFUSED = "refused", "Refused"

    authority = models.CharField(max_length=200, help_text="Who asked: the body (e.g. the ICO, a police force).")
    requester_contact = EncryptedTextField(max_length=300, blank=True, help_text="The officer and their contact details.")
    authority_reference = models.CharField(max_length=100, blank=True)
    legal_basis = models.TextField(help_text="e.g. a court order, DPA 2018 Sch. 2 para 2, an ICO information notice.")
    requested_at = models.DateTimeField(default=timezone.now)
    data_disclosed = EncryptedTextField(max_length=5000, help_text="What was asked for, and what was handed over.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED, editable=False)
    disclosed_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    decision_note = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("approve_disclosure", "Can approve or refuse a disclosure to an authority")]

    def __str__(self):
        return f"Disclosure #{self.pk} to {self.authority} ({self.get_status_display()})"


class TrainingRecord(models.Model):
    """A staff member completed data-protection training (P27)."""

    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    course = models.CharField(max_length=200)
    completed_on = models.DateField()
    evidence = models.CharField(max_length=300, blank=True, help_text="Certificate number or where the evidence is kept.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-completed_on"]

    def __str__(self):
        return f"{self.course} ({self.completed_on:%d %b %Y})"
