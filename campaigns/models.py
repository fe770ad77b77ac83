"""Campaigns, their scripts and contacts, and the calls they place.

A campaign belongs to one organisation and calls the people on its contact
lists (P04, P05). Each contact is dialled only after the pre-call gate
(campaigns.gate) allows it; each dial is a `Call`, which records what happened
on the line (P06): telephony status, outcome, timestamps, who answered, the
script version used, responses, transcript and recording.

Personal data here (the transcript, responses, recordings, the numbers a
client dials from and transfers to) is encrypted and registered in the
personal-data registry, so data-subject requests and retention purges find it.
"""

import datetime
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import AFTER_CONTRACT_DAYS
from nextsupport import privacy
from nextsupport.fields import BlindIndexField, EncryptedPhoneField, EncryptedTextField

_P29 = "P29: a client's business numbers are kept for the contract and 6 years after it ends."
_P30 = "P30: call interaction data goes 30 days after the campaign ends; counts and durations stay, with no personal data."

MONDAY_TO_SATURDAY = [0, 1, 2, 3, 4, 5]


def _default_days() -> list[int]:
    return list(MONDAY_TO_SATURDAY)


@privacy.register(
    category=privacy.Category.CLIENT_CONTACT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("number", "label", "requested_at", "verified_at"),
    subject={"phone": "number_index"},
    organisation="organisation",
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS, after="organisation__contract_end", action=privacy.Action.DELETE, basis=_P29
    ),
    erasure=privacy.Action.DELETE,
)
class CallerId(models.Model):
    """A UK number the client proved it controls, shown to everyone its campaigns call (P50).

    Proof is the provider's caller-ID validation: the provider rings the number
    and someone there keys in `validation_code`. Premium-rate and other
    revenue-sharing numbers are refused before that (campaigns.numbers).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the verification call"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Verification failed"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="caller_ids")
    # A sole trader's business line may be their own mobile: encrypted like any personal number.
    number = EncryptedPhoneField()
    number_index = BlindIndexField(source="number", null=False, db_index=False)
    label = models.CharField(max_length=100, help_text="A name for the number, e.g. 'Customer service line'.")
    provider = models.CharField(max_length=20)
    validation_code = models.CharField(max_length=12, blank=True)
    provider_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label", "id"]
        constraints = [models.UniqueConstraint(fields=["number_index", "organisation"], name="one_caller_id_per_org_number")]

    def __str__(self):
        return self.label

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class CallingLimit(models.Model):
    """The most calls an organisation may have on the line at once, across its campaigns; set by staff."""

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE, related_name="calling_limit")
    max_concurrent_calls = models.PositiveIntegerField(validators=[MinValueValidator(0), MaxValueValidator(1000)])
    reason = models.CharField(max_length=300, blank=True, help_text="Why staff set this limit.")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.organisation}: {self.max_concurrent_calls} at once"


@privacy.register(
    category=privacy.Category.CLIENT_CONTACT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("transfer_number",),
    subject={"phone": "transfer_number_index"},
    organisation="organisation",
    anonymised={"transfer_number": None},
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS, after="organisation__contract_end", action=privacy.Action.ANONYMISE, basis=_P29
    ),
    erasure=privacy.Action.ANONYMISE,
)
class Campaign(models.Model):
    """A client's calling campaign: who is called (its lists), how (its script), when, and under which rules."""

    class Purpose(models.TextChoices):
        SUPPORT = "support", "Customer support follow-up"
        MARKETING = "marketing", "Lead generation and marketing"

    class LawfulBasis(models.TextChoices):
        # P17: the basis each purpose may rest on (campaigns.services.LAWFUL_BASES).
        CONTRACT = "contract", "Contract: calls the customer's contract needs"
        LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"
        CONSENT = "consent", "Consent (PECR: required for marketing calls)"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class PauseReason(models.TextChoices):
        CLIENT = "client", "Paused by the client"
        ABANDONED_RATE = "abandoned_rate", "Paused automatically: abandoned-call rate near Ofcom's 3% limit"
        ORGANISATION = "organisation", "The account is suspended"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    lawful_basis = models.CharField(max_length=24, choices=LawfulBasis.choices)
    contact_lists = models.ManyToManyField("consumers.ContactList", related_name="campaigns", blank=True)
    caller_id = models.ForeignKey(CallerId, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns")
    transfer_number = EncryptedPhoneField(null=True, blank=True)
    transfer_number_index = BlindIndexField(source="transfer_number")

    # When calls may be made, in each consumer's local time (campaigns.calling_window).
    timezone = models.CharField(max_length=64, default="Europe/London", help_text="For people whose own time zone is unknown.")
    calling_days = models.JSONField(default=_default_days, help_text="Weekdays, 0 = Monday.")
    window_start = models.TimeField(default=datetime.time(9, 0))
    window_end = models.TimeField(default=datetime.time(20, 0))
    call_on_bank_holidays = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    max_attempts = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(10)])
    retry_spacing_minutes = models.PositiveIntegerField(
        default=240, validators=[MinValueValidator(60), MaxValueValidator(7 * 24 * 60)]
    )
    max_concurrent_calls = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(200)])
    record_calls = models.BooleanField(default=False, help_text="P07: when on, the call says so before recording starts.")

    # P16: automated decisions with legal effects only when the client switched them on, with a reason.
    automated_decisions = models.BooleanField(default=False)
    automated_decisions_reason = models.TextField(blank=True)
    automated_decisions_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automated_decisions_set_at = models.DateTimeField(null=True, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    pause_reason = models.CharField(max_length=16, choices=PauseReason.choices, blank=True)
    # The script version calls use: fixed while the campaign runs.
    script_version = models.ForeignKey("ScriptVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set by the dispatcher when the abandoned-call rate calls for fewer calls at once.
    slowed_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    # Completed or cancelled: P30's 30 days for its consumers' call data count from here.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state"], name="campaign_by_state")]

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.purpose == self.Purpose.MARKETING

    @property
    def is_live(self) -> bool:
        return self.state in (self.State.SCHEDULED, self.State.RUNNING, self.State.PAUSED)

    @property
    def has_ended(self) -> bool:
        return self.state in (self.State.COMPLETED, self.State.CANCELLED)


class ScriptVersion(models.Model):
    """One saved version of a campaign's script: never edited, a change is a new version.

    `content` is the client's part only (greeting, steps, closing); the platform's
    lines are added when it is spoken (campaigns.script), so no version can lack them.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="script_versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="one_script_version_number")]

    def __str__(self):
        return f"Version {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A script version is never changed: save a new version.")
        super().save(*args, **kwargs)


class GateReason(models.TextChoices):
    """Why the pre-call gate did not let a call go ahead (one code per rule; campaigns.gate)."""

    ORGANISATION_BLOCKED = "organisation_blocked", "The account may not launch calls"
    CAMPAIGN_NOT_RUNNING = "campaign_not_running", "The campaign is not running"
    CALLER_ID_UNVERIFIED = "caller_id_unverified", "The caller ID is not verified"
    LIST_UNUSABLE = "list_unusable", "The contact list may not be used"
    NOT_ON_LIST = "not_on_list", "No longer on the campaign's lists"
    OUTSIDE_WINDOW = "outside_window", "Outside the calling window in the person's local time"
    STOPPED = "stopped", "Restricted or objected"
    SUPPRESSED = "suppressed", "On a do-not-call list"
    NO_CONSENT = "no_consent", "No current consent to automated marketing calls from this client"
    SCREENING_STALE = "screening_stale", "TPS/CTPS screening older than 28 days"
    TPS_REGISTERED = "tps_registered", "Registered with the TPS or CTPS"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted", "No attempts left"
    RECENT_ABANDONED = "recent_abandoned", "Less than 72 hours since an abandoned call"
    RECENT_MACHINE = "recent_machine", "Less than 24 hours since an answering machine picked up"


@privacy.register(
    category=privacy.Category.CALL_INTERACTION,
    controller=privacy.Controller.CLIENT,
    fields=("state", "attempts", "outcome", "last_decision", "last_decided_at"),
    subject={"phone": "consumer__phone_index", "email": "consumer__email_index"},
    organisation="campaign__organisation",
    retention=privacy.Retention(days=30, after="campaign__ended_at", action=privacy.Action.DELETE, basis=_P30),
    erasure=privacy.Action.DELETE,
)
class CampaignContact(models.Model):
    """One person a campaign may call, and where their calls stand.

    The dispatcher claims contacts that are due (WAITING with `next_attempt_at`
    passed) with FOR UPDATE SKIP LOCKED, so two workers never take the same
    one. Every gate decision is kept here (`last_decision`) and counted per
    campaign and reason (GateTally): "why was this person not called" always
    has an answer.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        IN_CALL = "in_call", "Being called"
        DONE = "done", "Finished"
        REFUSED = "refused", "Not called: refused by the gate"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contacts")
    consumer = models.ForeignKey("consumers.Consumer", on_delete=models.CASCADE, related_name="campaign_contacts")
    contact_list = models.ForeignKey("consumers.ContactList", null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_decision = models.CharField(max_length=24, blank=True, help_text="'allowed' or a GateReason.")
    last_decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "consumer"], name="one_contact_per_campaign_consumer")]
        indexes = [
            # The dispatcher's claim: due contacts of one campaign, oldest first.
            models.Index(fields=["campaign", "next_attempt_at"], condition=Q(state="waiting"), name="contact_due"),
            models.Index(fields=["campaign", "state"], name="contact_by_state"),
        ]

    def __str__(self):
        return f"Contact #{self.pk} of {self.campaign_id}"


class GateTally(models.Model):
    """How many times the gate refused a campaign's contacts for each reason (and allowed them)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="gate_tallies")
    decision = models.CharField(max_length=24, help_text="'allowed' or a GateReason.")
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "decision"], name="one_tally_per_campaign_decision")]

    def __str__(self):
        return f"{self.decision}: {self.count}"


def _erase_calls(queryset) -> int:
    # The registry resolves the hook when it runs: no import of the call services here.
    from .calls import calls_erase

    return calls_erase(queryset=queryset)


def _export_call(call) -> dict:
    """A call as its data subject sees it in an access request: what happened, what they said."""
    return {
        "model": "campaigns.Call",
        "id": call.pk,
        "organisation": call.organisation_id,
        "campaign": call.campaign_id,
        "attempt": call.attempt,
        "status": call.status,
        "outcome": call.outcome,
        "dialled_at": call.dialled_at and call.dialled_at.isoformat(),
        "answered_at": call.answered_at and call.answered_at.isoformat(),
        "ended_at": call.ended_at and call.ended_at.isoformat(),
        "duration_seconds": call.duration_seconds,
        "answered_by": call.answered_by,
        "opted_out_at": call.opted_out_at and call.opted_out_at.isoformat(),
        "transcript": call.transcript,
    }


@privacy.register(
    category=privacy.Category.CALL_INTERACTION,
    controller=privacy.Controller.CLIENT,
    # The personal part of a call, cleared when it is anonymised; the counts and
    # durations the usage statements and the abandoned-call rate need stay,
    # with nothing that points at a person.
    fields=("transcript", "consumer", "contact", "phone_index", "conversation_state"),
    # By the number dialled (kept even after the consumer record is gone), and by
    # the e-mail address on the consumer record the call was made from.
    subject={"phone": "phone_index", "email": "consumer__email_index"},
    organisation="organisation",
    anonymised={"conversation_state": {}},
    exporter=_export_call,
    retention=privacy.Retention(
        days=30,
        after="campaign__ended_at",
        action=privacy.Action.ANONYMISE,
        basis=_P30,
        survives="The call without its person: status, outcome, timings and durations for statements and the "
        "abandoned-call rate.",
    ),
    erasure=privacy.Action.ANONYMISE,
    eraser=_erase_calls,
    erasure_note="Anonymised: what was said, the number and the link to you are deleted; the call's length and "
    "outcome stay, with nothing that points at you, for the business's usage statements and invoices.",
)
class Call(models.Model):
    """One dial of one contact, and everything that happened on the line (P06)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no_answer", "No answer"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        COMPLETED_SCRIPT = "completed_script", "Completed the script"
        OPTED_OUT = "opted_out", "Opted out"
        TRANSFERRED = "transferred", "Transferred to a person"
        VOICEMAIL = "voicemail", "Voicemail"
        ABANDONED = "abandoned", "Abandoned"
        NOT_INTERESTED = "not_interested", "Not interested"
        FAILED = "failed", "Failed"

    FINAL_STATUSES = (Status.COMPLETED, Status.BUSY, Status.NO_ANSWER, Status.FAILED, Status.CANCELLED)
    ON_THE_LINE = (Status.QUEUED, Status.RINGING, Status.IN_PROGRESS)

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="calls")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls")
    contact = models.ForeignKey(CampaignContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    consumer = models.ForeignKey("consumers.Consumer", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    # The number called, as its blind index only: the 72-hour and 24-hour rules
    # and data-subject requests find calls by number even after the consumer is gone.
    phone_index = BlindIndexField(purpose="phone", null=True)
    attempt = models.PositiveSmallIntegerField()
    script_version = models.ForeignKey(ScriptVersion, on_delete=models.PROTECT, related_name="calls")
    gate_decision = models.CharField(max_length=24, default="allowed")
    decided_at = models.DateTimeField()

    provider = models.CharField(max_length=20)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    dial_requested_at = models.DateTimeField(null=True, blank=True)
    dialled_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    first_audio_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Ofcom: the first audio within 2 s of answer; measured on every call.
    first_audio_ms = models.PositiveIntegerField(null=True, blank=True)
    slow_first_audio = models.BooleanField(default=False)
    answered_by = models.CharField(max_length=24, blank=True, help_text="The provider's answering-machine detection result.")

    records = models.BooleanField(default=False, help_text="The campaign recorded calls when this one was placed.")
    conversation_state = models.JSONField(default=dict, blank=True)
    # [{"speaker": "agent"|"person", "text": ..., "at": seconds from answer}], as JSON, encrypted.
    transcript = EncryptedTextField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "status"], name="call_by_campaign_status"),
            models.Index(fields=["organisation", "status"], name="call_by_org_status"),
            # The 72-hour and 24-hour rules look calls up by number.
            models.Index(fields=["organisation", "phone_index", "ended_at"], name="call_by_org_number"),
            models.Index(fields=["campaign", "ended_at"], name="call_by_campaign_ended"),
            models.Index(fields=["status", "created_at"], name="call_by_status_created"),
        ]
        # P13: staff who may read a call's transcript and hear its recording in the admin, each review audited.
        permissions = [("review_call", "Can review a call's transcript and recording (audited)")]

    def __str__(self):
        return f"Call #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


@privacy.register(
    category=privacy.Category.CALL_INTERACTION,
    controller=privacy.Controller.CLIENT,
    fields=("step_id", "question", "value", "heard"),
    subject={"phone": "call__phone_index", "email": "call__consumer__email_index"},
    organisation="call__organisation",
    retention=privacy.Retention(days=30, after="call__campaign__ended_at", action=privacy.Action.DELETE, basis=_P30),
    erasure=privacy.Action.DELETE,
)
class CallResponse(models.Model):
    """An answer to one of the script's questions, as the call understood it.

    `value` is the script's own name for the answer ("yes", "no"): the
    results table counts and filters on it. What the person actually said is
    personal and encrypted.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="responses")
    step_id = models.CharField(max_length=40)
    question = models.CharField(max_length=300)
    value = models.CharField(max_length=40, blank=True, help_text="The matched answer; blank when none matched.")
    heard = EncryptedTextField(null=True, blank=True)
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "step_id"], name="one_response_per_call_step")]

    def __str__(self):
        return f"{self.step_id}: {self.value or '-'}"


def _erase_recordings(queryset) -> int:
    from .calls import recordings_delete

    return recordings_delete(queryset=queryset)


def _read_recording(recording) -> bytes:
    from .calls import recording_plaintext

    return recording_plaintext(recording)


@privacy.register(
    category=privacy.Category.RECORDING,
    controller=privacy.Controller.CLIENT,
    fields=("file", "duration_seconds", "created_at"),
    subject={"phone": "call__phone_index", "email": "call__consumer__email_index"},
    organisation="organisation",
    files={"file": "recordings"},
    file_reader=_read_recording,
    retention=privacy.Retention(
        days=183,
        after="created_at",
        action=privacy.Action.DELETE,
        basis="P31: call recordings are kept at most 6 months, and go with the call's data (P30) if that is sooner.",
        sooner=(privacy.Sooner(days=30, after="call__campaign__ended_at"),),
        survives="Nothing of the audio; the call keeps its duration and outcome.",
    ),
    erasure=privacy.Action.DELETE,
    eraser=_erase_recordings,
)
class Recording(models.Model):
    """A call's audio, fetched from the provider into our private `recordings` storage, encrypted (P24, P31).

    The provider's copy is deleted as soon as ours is stored, and the deletion
    is checked: the recording then exists in one place, which our retention governs.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be fetched"
        STORED = "stored", "Stored"
        FAILED = "failed", "Could not be fetched"
        DELETED = "deleted", "Deleted"

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="recording")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    provider_sid = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.CharField(max_length=300, blank=True, help_text="Name in the recordings storage (AES-GCM ciphertext).")
    content_type = models.CharField(max_length=40, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    provider_deleted_at = models.DateTimeField(null=True, blank=True, help_text="The provider's copy is gone, checked.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Recording of call #{self.call_id}"


# --- Outbound webhooks to the client (campaigns.client_webhooks) ------------------------------


class WebhookEvent(models.TextChoices):
    """What a client's endpoint can be told about. Payloads carry ids, codes and times, never personal data (P22)."""

    CALL_COMPLETED = "call.completed", "A call ended (whatever its outcome)"
    CONSUMER_OPTED_OUT = "consumer.opted_out", "Someone asked not to be called again"
    DATA_SUBJECT_REQUEST_FORWARDED = "data_subject_request.forwarded", "A person's data-protection request awaits your answer"


class WebhookEndpoint(models.Model):
    """A client's HTTPS address that is told when calls end and people opt out.

    The signing secret is never stored: it is derived from the endpoint's id and
    `secret_nonce` with the platform's SECRET_KEY (campaigns.client_webhooks.secret_for),
    so a copy of the database alone cannot forge a delivery. Rotating the secret
    is choosing a new nonce.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True, help_text="What the endpoint is, e.g. 'Our CRM'.")
    events = models.JSONField(default=list, help_text="The WebhookEvent values it subscribes to.")
    active = models.BooleanField(default=True)
    secret_nonce = models.CharField(max_length=64)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint, and how each attempt went: the delivery log.

    `next_attempt_at` is when a pending delivery is next due; the sender claims it
    by moving that time forward in a conditional UPDATE, so two workers never
    send the same attempt, and a delivered or failed row is never sent again.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    TEST_EVENT = "webhook.test"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The retry sweep: pending deliveries whose time has come.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self):
        return f"{self.event} {self.event_id}"


class UsageStatement(models.Model):
    """One organisation's calls in one calendar month (P12): counts only, never anyone's data.

    Built once per organisation and month by `campaigns.statements` (a repeat
    finds it and builds nothing), shown in the portal and e-mailed once to the
    billing contact and the members who chose statements. Figures follow the
    calls dialled in the period, UK time; `campaign_lines` holds the same
    figures per campaign, so a statement still reads the same after its
    campaigns' call data are purged (P30).
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="usage_statements")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the period, included.")
    calls_placed = models.PositiveIntegerField()
    calls_connected = models.PositiveIntegerField()
    connected_minutes = models.DecimalField(max_digits=12, decimal_places=2)
    # [{"campaign": id, "name": ..., "calls_placed": n, "calls_connected": n, "connected_minutes": "12.50"}]
    campaign_lines = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "period_start", "period_end"], name="one_statement_per_org_period")
        ]

    def __str__(self):
        return f"{self.organisation}: {self.period_start:%B %Y}"
