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
