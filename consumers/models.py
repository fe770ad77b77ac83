"""Consumers of a client, the lists they came from, their consent, and who must never be called.

Personal fields are encrypted; phone numbers and e-mails are found through
their blind index. A consumer belongs to exactly one organisation (P04, P05):
the same person in two clients' lists is two unrelated records, and nothing in
one client's ledger, list or flags is ever read for the other.

Retention (P30): the campaigns app calls `services.contact_list_release()` when
the last campaign using a list ends; that sets `released_at` on the list and on
every consumer no longer on a list still in use, and the purge deletes them 30
days later. Suppression entries outlive all of it: they hold only the blind
index of the number (P40, P48, P49).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from nextsupport import privacy
from nextsupport.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedPhoneField,
    EncryptedTextField,
)
from nextsupport.models import AppendOnlyModel

_P30 = "P30: deleted 30 days after the last campaign using it ended, or at once on the client's request."


class ContactList(models.Model):
    """A list a client uploads for its campaigns: customer service, or marketing (PECR applies)."""

    class Purpose(models.TextChoices):
        SERVICE = "service", "Customer service calls"
        MARKETING = "marketing", "Marketing calls"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="contact_lists")
    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # TPS/CTPS screening of a marketing list (P49): when, and the date of the
    # oldest register file it was screened against.
    screened_at = models.DateTimeField(null=True, blank=True)
    screened_register_date = models.DateField(null=True, blank=True)
    # Set by the campaigns app when no campaign needs the list any more;
    # retention of its consumers counts from here (P30).
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="one_list_name_per_org")]

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.purpose == self.Purpose.MARKETING


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("basis", "wording", "list_name", "attested_at"),
    subject={"user": "attested_by"},
    organisation="organisation",
    retention=privacy.Retention(
        days=6 * 366,
        after="attested_at",
        action=privacy.Action.DELETE,
        basis="P19: the attestation is evidence, kept 6 years (the limitation period) after it was made, "
        "whether or not its list still exists; a list still in use by then needs a fresh attestation.",
    ),
    # Evidence of who vouched for the list: an erasure request by that user
    # leaves it (the user record itself is anonymised, never deleted).
    erasure=privacy.Action.RETAIN,
    erasure_note="Kept: the business's statement of why it may call the people on a list is evidence we must be able "
    "to show. It names who made it, not what they said about you.",
)
class LawfulBasisAttestation(AppendOnlyModel):
    """The uploader's statement of the lawful basis for a list, in their own words (P17, P19).

    Evidence: never edited or deleted (a database trigger refuses both), and it
    outlives its list: deleting the list leaves the attestation, which keeps the
    list's id, name and organisation. A new attestation supersedes the previous
    one and both are kept.
    """

    class Basis(models.TextChoices):
        CONTRACT = "contract", "Contract"
        CONSENT = "consent", "Consent"
        LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    # No database constraint and DO_NOTHING: deleting the list must not touch
    # the evidence; list ids are never reused, so the id still names it.
    contact_list = models.ForeignKey(ContactList, on_delete=models.DO_NOTHING, db_constraint=False, related_name="attestations")
    list_name = models.CharField(max_length=120, help_text="The list's name when it was attested.")
    basis = models.CharField(max_length=24, choices=Basis.choices)
    wording = models.TextField(help_text="The client's own statement of why it may have these people called.")
    # Users are anonymised, never deleted, so the link to who attested holds.
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when the attestation came through the API: the key that sent it. `attested_by` is
    # then the person who created the key, who answers for what it attests.
    api_key = models.ForeignKey(
        "accounts.APIKey", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    attested_at = models.DateTimeField(auto_now_add=True)

    refuse_update = "An attestation is evidence and cannot be changed; record a new one."
    refuse_delete = "An attestation is evidence and is kept, even after its list is deleted."

    class Meta:
        ordering = ["-attested_at", "-id"]
        get_latest_by = ["attested_at", "id"]

    def __str__(self):
        return f"{self.get_basis_display()} for {self.list_name}"


def _erase_consumers(queryset) -> int:
    # services imports this module; importing it lazily avoids the cycle.
    from .services import consumers_erase

    return consumers_erase(queryset=queryset)


def _rectify_consumer(consumer, changes: dict, actor):
    from .services import consumer_correct

    return consumer_correct(consumer=consumer, changes=changes, by=actor)


@privacy.register(
    category=privacy.Category.CONSUMER,
    controller=privacy.Controller.CLIENT,
    fields=(
        "name",
        "phone",
        "email",
        "date_of_birth",
        "postcode",
        "timezone",
        "restricted_at",
        "restriction_reason",
        "objected_at",
        "created_at",
    ),
    subject={"phone": "phone_index", "email": "email_index"},
    organisation="organisation",
    retention=privacy.Retention(
        days=30,
        after="released_at",
        action=privacy.Action.DELETE,
        basis=_P30,
        survives="Only what TPS/CTPS and opt-out compliance need: suppression entries and the consent ledger "
        "(blind indexes of the number, no name or number), each on its own rule.",
    ),
    erasure=privacy.Action.DELETE,
    # Erasure leaves the number on the client's suppression list (as a blind
    # index only), so a later upload of the same CRM export cannot bring it back.
    eraser=_erase_consumers,
    rectifier=_rectify_consumer,
)
class Consumer(models.Model):
    """A person a client may call. One per (organisation, phone number)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="consumers")
    name = EncryptedTextField(max_length=200, null=True, blank=True)
    phone = EncryptedPhoneField()
    # Indexed by the unique constraint below, which leads with the number so
    # that a data-subject search across every organisation is an index scan.
    phone_index = BlindIndexField(source="phone", null=False, db_index=False)
    email = EncryptedEmailField(null=True, blank=True)
    email_index = BlindIndexField(source="email")
    date_of_birth = EncryptedDateField(null=True, blank=True)
    postcode = EncryptedTextField(max_length=8, null=True, blank=True)
    timezone = EncryptedTextField(max_length=64, null=True, blank=True)
    # The list that first supplied the record (P05); every list it is on is a ListMembership.
    source_list = models.ForeignKey(ContactList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The import that last wrote the record: a second row with the same number
    # in that import is a duplicate, not an update (checked in SQL, so the
    # check needs no memory however large the file).
    last_import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    restricted_at = models.DateTimeField(null=True, blank=True, help_text="P38: kept, but never called while set.")
    # Free text about the person, so kept here (encrypted, erased with the
    # record), never in the audit trail, which is plain and kept for years.
    restriction_reason = EncryptedTextField(max_length=300, null=True, blank=True)
    objected_at = models.DateTimeField(null=True, blank=True, help_text="P40: objected to the processing; never called.")
    released_at = models.DateTimeField(null=True, blank=True, help_text="P30: retention runs from here.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["phone_index", "organisation"], name="one_consumer_per_org_phone")]

    def __str__(self):
        return f"Consumer #{self.pk}"


@privacy.register(
    category=privacy.Category.CONSUMER,
    controller=privacy.Controller.CLIENT,
    fields=("contact_list", "added_at"),
    subject={"phone": "consumer__phone_index", "email": "consumer__email_index"},
    organisation="contact_list__organisation",
    retention=privacy.Retention(days=30, after="contact_list__released_at", action=privacy.Action.DELETE, basis=_P30),
    erasure=privacy.Action.DELETE,
)
class ListMembership(models.Model):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="memberships")
    consumer = models.ForeignKey(Consumer, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_list", "consumer"], name="one_membership_per_list")]

    def __str__(self):
        return f"{self.consumer} on {self.contact_list}"


@privacy.register(
    category=privacy.Category.CONSUMER,
    controller=privacy.Controller.CLIENT,
    # The upload itself, and a file name and header row that may name people.
    fields=("file", "original_filename", "columns"),
    subject={},
    organisation="organisation",
    files={"file": "default"},
    retention=privacy.Retention(
        days=30,
        after="finished_at",
        action=privacy.Action.DELETE,
        basis="P30: a finished import, its upload and its error report go 30 days after it ended.",
        survives="The consumers it imported (on their own rule) and the lawful-basis attestation.",
    ),
    erasure=privacy.Action.DELETE,
)
class ImportJob(models.Model):
    """One uploaded file and its journey into a list.

    Crash safety: rows are loaded in chunks; each chunk's consumers, list
    memberships, consent entries, row problems, counters and `checkpoint_row`
    commit in one transaction. A re-run (the task is redelivered when a worker
    dies) skips every row up to the checkpoint, so nothing is lost or doubled.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for column mapping"
        QUEUED = "queued", "Queued"
        CHECKING = "checking", "Checking the file"
        IMPORTING = "importing", "Importing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="import_jobs")
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="import_jobs")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The raw upload; deleted once the job ends, since it holds the columns we
    # were told to drop (P10).
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True, max_length=300)
    original_filename = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=1)
    columns = models.JSONField(default=list, help_text="The header row: column names only.")
    # {"<column index>": "<target field>"}; every other column is dropped.
    mapping = models.JSONField(default=dict, blank=True)
    dropped_columns = models.JSONField(default=list, blank=True, help_text='[{"column": name, "reason": ...}]')
    consent_purposes = models.JSONField(default=list, blank=True)
    # P36: an empty cell in a mapped column clears that detail on a record the
    # file updates (an invalid value never does: it is reported and the old value stays).
    clear_empty = models.BooleanField(default=False)
    consent_wording = models.TextField(blank=True)
    consent_wording_version = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    failure_reason = models.TextField(blank=True)
    total_rows = models.IntegerField(null=True, blank=True)
    rows_read = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    minors = models.IntegerField(default=0, help_text="Rejected rows of people under 16 (P48): counted, never stored.")
    suppressed = models.IntegerField(default=0)
    screened_out = models.IntegerField(default=0, help_text="Numbers registered with the TPS or CTPS (marketing lists).")
    duplicates = models.IntegerField(default=0)
    warnings = models.IntegerField(default=0, help_text="Rows imported without a value that was not valid (e-mail, postcode...).")
    problems_listed = models.IntegerField(default=0)
    # The last data row whose results are committed (header is row 1).
    checkpoint_row = models.IntegerField(default=1)
    bytes_done = models.BigIntegerField(default=0)
    attempts = models.IntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self):
        return f"Import #{self.pk} of {self.original_filename}"

    @property
    def accepted(self) -> int:
        return self.created + self.updated

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.size_bytes or self.status != self.Status.IMPORTING:
            return 0
        return min(99, int(100 * self.bytes_done / self.size_bytes))


@privacy.register(
    category=privacy.Category.CONSUMER,
    controller=privacy.Controller.CLIENT,
    fields=("row_number", "column", "value", "reason", "cells"),
    # Only values that failed validation, and the imported columns of rows
    # that were rejected, are kept: no identifier that passed validation to
    # find them by. They go 30 days after the import.
    subject={},
    organisation="job__organisation",
    retention=privacy.Retention(
        days=30, after="job__finished_at", action=privacy.Action.DELETE, basis="P30: the error report lives 30 days."
    ),
    erasure=privacy.Action.DELETE,
)
class ImportProblem(models.Model):
    """One line of an import's error report: which row, which column, what was wrong."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row_number = models.IntegerField()
    column = models.CharField(max_length=200, blank=True)
    # The offending value, only when showing it helps fix the file (an
    # unreadable number); never for suppressed, screened-out or under-16 rows.
    value = EncryptedTextField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    # A warning: the row was imported, without this value.
    kept = models.BooleanField(default=False)
    # A rejected row's values in the columns the client chose to import (JSON, by column number),
    # so "Download the rejected rows" can give them back to correct. Never the columns we
    # drop (P10), never for suppressed, screened-out or under-16 rows.
    cells = EncryptedTextField(null=True, blank=True)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"])]

    def __str__(self):
        return f"Row {self.row_number}: {self.reason}"


@privacy.register(
    category=privacy.Category.CONSENT,
    controller=privacy.Controller.CLIENT,
    fields=("purpose", "action", "method", "occurred_at", "wording", "wording_version", "source_reference", "recorded_at"),
    # The ledger follows the number; by e-mail, through the consumer record it was recorded for.
    subject={"phone": "phone_index", "email": "consumer__email_index"},
    organisation="organisation",
    retention=privacy.Retention(
        days=6 * 366,
        after="recorded_at",
        action=privacy.Action.DELETE,
        basis="P14: consent evidence is kept 6 years (the limitation period) after it was recorded.",
    ),
    # Proof of consent, or of its withdrawal, is what PECR requires the client
    # to be able to show (P14, P18): an erasure request does not remove it.
    erasure=privacy.Action.RETAIN,
    erasure_note="Kept: the law on marketing calls (PECR) requires the business to be able to prove what you agreed to and when you withdrew it. It is kept 6 years and used for nothing else.",
)
class ConsentRecord(AppendOnlyModel):
    """One entry of the consent ledger (PECR, P14/P18/P41): given or withdrawn, never edited.

    The latest entry by `occurred_at` for (client, phone number, purpose)
    decides: a consent re-imported later with an old date does not undo a
    withdrawal made after it, even when the consumer record was deleted and
    created again in between.
    """

    class Purpose(models.TextChoices):
        MARKETING_CALLS = "marketing_calls", "Marketing calls"
        AUTOMATED_CALLS = "automated_calls", "Automated (AI) marketing calls"

    class Action(models.TextChoices):
        GIVEN = "given", "Given"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Method(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        VERBAL = "verbal", "Verbally (phone or in person)"
        PAPER = "paper", "Paper form"
        EMAIL = "email", "E-mail"
        CRM_IMPORT = "crm_import", "Imported from the client's CRM"
        CALL = "call", "During a NextSupport call"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="consent_records")
    # No database constraint and DO_NOTHING: erasing the consumer must not
    # rewrite or remove the evidence; the phone index keeps it attached to the number.
    consumer = models.ForeignKey(Consumer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="consents")
    phone_index = BlindIndexField(purpose="phone", null=False)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    occurred_at = models.DateTimeField(help_text="When the person gave or withdrew it.")
    wording = models.TextField(blank=True, help_text="The words the person agreed to.")
    wording_version = models.CharField(max_length=64, blank=True)
    source_reference = EncryptedTextField(max_length=200, null=True, blank=True, help_text="CRM record, form or paper reference.")
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    refuse_update = "The consent ledger is append-only: record a withdrawal instead of changing consent."
    refuse_delete = "The consent ledger is append-only: consent evidence is not deleted."

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # The ledger belongs to the person's number, not to one consumer row:
        # the row may be deleted and re-created, the evidence stays (P41).
        indexes = [models.Index(fields=["organisation", "phone_index", "purpose", "occurred_at"], name="consent_by_org_number")]
        constraints = [
            models.CheckConstraint(condition=~Q(wording="", wording_version=""), name="consent_names_its_wording_or_version")
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.get_action_display().lower()} ({self.occurred_at:%Y-%m-%d})"


class SuppressionReason(models.TextChoices):
    OPT_OUT = "opt_out", "Asked not to be called"
    OBJECTION = "objection", "Objected to the processing"
    ERASURE = "erasure", "Personal data erased on request"
    UNDER_16 = "under_16", "Under 16"
    CLIENT_REQUEST = "client_request", "Client asked us not to call"


class SuppressionSource(models.TextChoices):
    CALL_OPT_OUT = "call_opt_out", "Opt-out during a call"
    WEB_OPT_OUT = "web_opt_out", "Opt-out on our website"
    DSAR = "dsar", "Data-subject request"
    CLIENT_REQUEST = "client_request", "Client request"


_SUPPRESSION_RETENTION = privacy.Retention(
    days=None,
    after=None,
    action=privacy.Action.RETAIN,
    basis="P30/P40/P49: an opt-out is honoured for good; only the blind index of the number is kept, never the number.",
)


_SUPPRESSION_NOTE = (
    "Kept, as a one-way fingerprint of your number only (never the number itself), so that you are not called again."
)


@privacy.register(
    category=privacy.Category.SUPPRESSION,
    controller=privacy.Controller.CLIENT,
    fields=("reason", "source", "created_at"),
    subject={"phone": "phone_index"},
    organisation="organisation",
    retention=_SUPPRESSION_RETENTION,
    erasure=privacy.Action.RETAIN,
    erasure_note=_SUPPRESSION_NOTE,
)
class Suppression(models.Model):
    """A number one client must never call again."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="suppressions")
    phone_index = BlindIndexField(purpose="phone", null=False, db_index=False)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(max_length=20, choices=SuppressionSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["phone_index", "organisation"], name="one_suppression_per_org_phone")]

    def __str__(self):
        return f"{self.get_reason_display()} ({self.get_source_display()})"


@privacy.register(
    category=privacy.Category.SUPPRESSION,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reason", "source", "created_at"),
    subject={"phone": "phone_index"},
    retention=_SUPPRESSION_RETENTION,
    erasure=privacy.Action.RETAIN,
    erasure_note=_SUPPRESSION_NOTE,
)
class PlatformSuppression(models.Model):
    """A number no client may call through NextSupport: the person asked us directly."""

    phone_index = BlindIndexField(purpose="phone", null=False, unique=True, db_index=False)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(max_length=20, choices=SuppressionSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_reason_display()} ({self.get_source_display()})"


class ScreeningRegister(models.Model):
    """One imported TPS or CTPS register file (P49).

    The newest loaded file of each kind is the one screening uses; loading a
    new file removes the numbers of the files it supersedes.
    """

    class Kind(models.TextChoices):
        TPS = "tps", "Telephone Preference Service (TPS)"
        CTPS = "ctps", "Corporate Telephone Preference Service (CTPS)"

    class Status(models.TextChoices):
        LOADING = "loading", "Loading"
        CURRENT = "current", "In use"
        SUPERSEDED = "superseded", "Superseded"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    file_date = models.DateField(help_text="The date the register file was issued.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.LOADING)
    numbers = models.IntegerField(default=0)
    unreadable_lines = models.IntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.CharField(max_length=100, help_text="Who loaded it: a user or 'manage.py'.")

    class Meta:
        ordering = ["-file_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(status="current"), name="one_current_register_per_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.file_date:%d %b %Y}"


@privacy.register(
    category=privacy.Category.SUPPRESSION,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("register",),
    subject={"phone": "phone_index"},
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.DELETE,
        basis="P49: replaced by each newer register file; the numbers of a superseded file are deleted when it is replaced.",
    ),
    erasure=privacy.Action.RETAIN,
    erasure_note="Kept while the national Telephone Preference Service register lists your number, "
    "as a one-way fingerprint only: the law requires calls to be screened against it.",
)
class RegisteredNumber(models.Model):
    """A number on a TPS/CTPS register file, as its blind index only."""

    pk = models.CompositePrimaryKey("register", "phone_index")
    register = models.ForeignKey(ScreeningRegister, on_delete=models.CASCADE, related_name="+")
    phone_index = BlindIndexField(purpose="phone", null=False, db_index=False)

    def __str__(self):
        return f"Number on {self.register_id}"
