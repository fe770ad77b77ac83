"""Client users, the organisations they belong to, their roles, and the records
that make an account trustworthy: invitations, API keys, legal acceptances,
onboarding reviews, sign-in sessions and backup codes."""

import datetime
import hashlib
import hmac
import secrets
import uuid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice
from django_otp.plugins.otp_totp.models import default_key, key_validator

from nextsupport import privacy
from nextsupport.fields import BlindIndexField, EncryptedEmailField, EncryptedPhoneField, EncryptedTextField
from nextsupport.models import PolicyDocument

# P29: client data is kept for the contract and six years after it ends. Counted
# generously (every year a leap year) so that no record goes a day early.
AFTER_CONTRACT_DAYS = 6 * 366


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("email", "full_name", "last_login"),
    subject={"email": "email", "user": "id"},
    # An expression, not a function of the row: anonymising is then one UPDATE.
    anonymised={"email": Concat(Value("erased-user-"), Cast("id", models.CharField()), Value("@erased.invalid"))},
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS,
        after="account_ended_on",
        action=privacy.Action.ANONYMISE,
        basis="P29: kept for the contract and 6 years after it ends; the clock starts when the person's last organisation closes.",
    ),
    erasure=privacy.Action.ANONYMISE,
    erasure_note="Anonymised: your name and address are removed; the account row stays, without them, because "
    "records of what was done with it (agreements, audit) point at it.",
)
class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a client's team member or NextSupport staff.

    The e-mail stays a plain (case-insensitively unique) column: it is the login
    identifier that authentication, verification and password reset look up.
    Every other personal field is encrypted.
    """

    email = models.EmailField(max_length=254, unique=True)
    full_name = EncryptedTextField(max_length=150, blank=True, null=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin (compliance staff).")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # The day the person's last organisation closed: P29's clock for this row.
    account_ended_on = models.DateField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]


@privacy.register(
    category=privacy.Category.CLIENT_CONTACT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("business_address", "billing_contact_name", "billing_email", "billing_phone", "billing_address"),
    subject={"email": "billing_email_index", "phone": "billing_phone_index"},
    organisation="id",
    anonymised={"billing_contact_name": None, "billing_email": None, "billing_phone": None},
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS,
        after="contract_end",
        action=privacy.Action.ANONYMISE,
        basis="P29: kept for the contract and 6 years after it ends; contract_end is set when the account closes.",
    ),
    erasure=privacy.Action.ANONYMISE,
)
class Organisation(models.Model):
    """A client business. Every client-owned record hangs off one."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    class Onboarding(models.TextChoices):
        PENDING = "pending", "Awaiting compliance review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Changes requested"

    class StatementFrequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        WEEKLY = "weekly", "Weekly"

    legal_name = models.CharField(max_length=200)
    company_number = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organisations")

    # Profile (P02). A sole trader's business address is their home: encrypted.
    trading_name = models.CharField(max_length=200, blank=True)
    business_address = EncryptedTextField(max_length=500, blank=True, null=True)
    lawful_basis_statement = models.TextField(
        blank=True,
        help_text="How the organisation's calls are lawful: the basis it relies on for its contacts (reviewed at onboarding).",
    )

    # Billing profile (P03). Card details are never stored: payments go through the payment provider.
    billing_contact_name = EncryptedTextField(max_length=150, blank=True, null=True)
    billing_email = EncryptedEmailField(max_length=254, blank=True, null=True)
    billing_email_index = BlindIndexField(source="billing_email")
    billing_phone = EncryptedPhoneField(blank=True, null=True)
    billing_phone_index = BlindIndexField(source="billing_phone")
    billing_address = EncryptedTextField(max_length=500, blank=True, null=True)
    vat_number = models.CharField(max_length=14, blank=True)

    # Service preferences: defaults for new campaigns.
    calling_hours_start = models.TimeField(default=datetime.time(9, 0))
    calling_hours_end = models.TimeField(default=datetime.time(20, 0))
    call_on_saturdays = models.BooleanField(default=False)
    call_on_sundays = models.BooleanField(default=False)
    record_calls_by_default = models.BooleanField(default=False)
    statement_frequency = models.CharField(max_length=10, choices=StatementFrequency.choices, default=StatementFrequency.MONTHLY)

    # Onboarding review (P19): no calls until compliance staff approve.
    onboarding_status = models.CharField(max_length=10, choices=Onboarding.choices, default=Onboarding.PENDING)

    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return self.legal_name

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    CAMPAIGN_MANAGER = "campaign_manager", "Campaign manager"
    VIEWER = "viewer", "Viewer"


class Capability(models.TextChoices):
    """What a member may do. Views and APIs ask for a capability, never a role."""

    VIEW = "view", "See the organisation's campaigns, lists and results"
    MANAGE_CONTACTS = "manage_contacts", "Upload contact lists, edit consumers and consent"
    EDIT_CAMPAIGNS = "edit_campaigns", "Create and edit campaigns and scripts"
    LAUNCH_CAMPAIGNS = "launch_campaigns", "Launch and stop campaigns"
    HEAR_RECORDINGS = "hear_recordings", "Listen to call recordings"
    # Counts, results and masked numbers are VIEW; names, full numbers, e-mails and transcripts are this.
    SEE_PERSONAL_DATA = "see_personal_data", "See consumers' names, phone numbers, e-mail addresses and transcripts"
    EXPORT_DATA = "export_data", "Export personal data"
    MANAGE_MEMBERS = "manage_members", "Invite, change and remove members"
    MANAGE_API_KEYS = "manage_api_keys", "Create and revoke API keys"
    MANAGE_ORGANISATION = "manage_organisation", "Edit the organisation profile and billing"
    CLOSE_ORGANISATION = "close_organisation", "Close the organisation's account"


_MANAGER = {
    Capability.VIEW,
    Capability.SEE_PERSONAL_DATA,
    Capability.MANAGE_CONTACTS,
    Capability.EDIT_CAMPAIGNS,
    Capability.LAUNCH_CAMPAIGNS,
    Capability.HEAR_RECORDINGS,
    Capability.EXPORT_DATA,
}
_ADMIN = _MANAGER | {Capability.MANAGE_MEMBERS, Capability.MANAGE_API_KEYS, Capability.MANAGE_ORGANISATION}
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_ADMIN | {Capability.CLOSE_ORGANISATION}),
    Role.ADMIN: frozenset(_ADMIN),
    Role.CAMPAIGN_MANAGER: frozenset(_MANAGER),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

# What the team page tells people each role may do: true to ROLE_CAPABILITIES (a test holds them together).
ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.OWNER: "Everything an admin can do, and close the organisation's account.",
    Role.ADMIN: "Manage the team, API keys, the organisation's profile and billing, and everything a campaign manager can do.",
    Role.CAMPAIGN_MANAGER: "Run campaigns, upload contact lists, see and edit consumers' details and consent, "
    "listen to recordings and export data.",
    Role.VIEWER: "See campaigns, lists, counts and results. Consumers' names and e-mail addresses are hidden, "
    "and phone numbers show their last digits only.",
}


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("organisation", "role", "created_at", "notify_service_updates", "notify_usage_statements"),
    subject={"user": "user"},
    organisation="organisation",
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS,
        after="organisation__contract_end",
        action=privacy.Action.DELETE,
        basis="P29: kept while the person is a member, and 6 years after the organisation's contract ends.",
    ),
    erasure=privacy.Action.DELETE,
)
class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # Notification settings (P12). Security notices always go out and cannot be turned off.
    notify_service_updates = models.BooleanField(
        # Significant policy changes are not covered: P53 says they reach every client user by e-mail.
        default=True,
        help_text="Changes to the service and planned maintenance. Significant changes to our policies are always e-mailed.",
    )
    notify_usage_statements = models.BooleanField(default=False, help_text="Usage and billing statements.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.get_role_display()})"

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]


def _new_nonce() -> str:
    return secrets.token_hex(16)


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("email", "role", "created_at", "expires_at", "accepted_at"),
    subject={"email": "email_index"},
    organisation="organisation",
    retention=privacy.Retention(
        days=90,
        after="expires_at",
        action=privacy.Action.DELETE,
        basis="An invitation is only needed until it is used or expires; kept 90 days after expiry for support.",
    ),
    erasure=privacy.Action.DELETE,
)
class Invitation(models.Model):
    """An e-mailed invitation to join an organisation with a role.

    The link carries a signed token naming the invitation and its nonce; a
    re-sent invitation gets a new nonce, so only the latest link works.
    """

    SALT = "accounts.invitation"
    # The e-mail can be sent again this long after it was last sent (not sooner: no spamming).
    RESEND_AFTER = datetime.timedelta(hours=1)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = EncryptedEmailField(max_length=254)
    email_index = BlindIndexField(source="email")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    nonce = models.CharField(max_length=32, default=_new_nonce, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now, help_text="When the invitation was last e-mailed.")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email_index"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"Invitation to {self.organisation} ({self.get_role_display()})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "pending" if self.expires_at > timezone.now() else "expired"

    @property
    def resendable_at(self) -> datetime.datetime:
        return self.sent_at + self.RESEND_AFTER

    @property
    def resendable(self) -> bool:
        return self.resendable_at <= timezone.now()

    def token(self) -> str:
        return signing.dumps({"i": self.pk, "n": self.nonce}, salt=self.SALT)

    @classmethod
    def from_token(cls, token: str) -> "Invitation | None":
        """The invitation a link names, if the link is genuine and still its latest."""
        try:
            data = signing.loads(token, salt=cls.SALT)
        except signing.BadSignature:
            return None
        invitation = cls.objects.select_related("organisation").filter(pk=data.get("i")).first()
        if invitation is None or not hmac.compare_digest(invitation.nonce, str(data.get("n", ""))):
            return None
        return invitation


class APIKey(models.Model):
    """A key for the REST API, scoped to one organisation.

    Only a SHA-256 hash of the key is stored (keys are 256-bit random strings,
    so a fast hash is enough); the short prefix finds the row, and is what
    people and the admin see. The key itself is shown once, when created.
    """

    PREFIX = "nsk_"

    class Scope(models.TextChoices):
        READ_ONLY = "read_only", "Read only"
        READ_WRITE = "read_write", "Read and write"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'CRM sync'.")
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.READ_ONLY)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate(cls) -> tuple[str, str]:
        """(prefix, full key): `nsk_<8 chars>.<43 chars>`."""
        prefix = cls.PREFIX + secrets.token_hex(4)
        return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"

    @property
    def capabilities(self) -> frozenset[str]:
        return API_KEY_CAPABILITIES[self.scope]

    def refusal(self, now: datetime.datetime | None = None) -> str:
        """Why the key cannot be used now ('' when it can)."""
        now = now or timezone.now()
        if self.revoked_at:
            return "This API key has been revoked."
        if self.expires_at and self.expires_at <= now:
            return "This API key has expired."
        if self.organisation.status != Organisation.Status.ACTIVE:
            return "This API key's organisation is not active."
        return ""

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"


# Integrations never manage people, keys or the account, and never pull
# recordings or bulk personal-data exports: those stay with signed-in people.
API_KEY_CAPABILITIES: dict[str, frozenset[str]] = {
    APIKey.Scope.READ_ONLY: frozenset({Capability.VIEW}),
    APIKey.Scope.READ_WRITE: frozenset(
        {
            Capability.VIEW,
            Capability.SEE_PERSONAL_DATA,
            Capability.MANAGE_CONTACTS,
            Capability.EDIT_CAMPAIGNS,
            Capability.LAUNCH_CAMPAIGNS,
        }
    ),
}


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("document", "accepted_at", "ip_address"),
    subject={"user": "user"},
    organisation="organisation",
    retention=privacy.Retention(
        days=AFTER_CONTRACT_DAYS,
        after="organisation__contract_end",
        action=privacy.Action.DELETE,
        basis="P53/P29: evidence of which terms applied, kept for the contract and 6 years after it ends.",
    ),
    erasure=privacy.Action.RETAIN,
    erasure_note="Kept: evidence of which terms and data-processing agreement applied, needed for the contract "
    "and 6 years after it ends (tax and legal claims).",
)
class PolicyAcceptance(models.Model):
    """Who accepted which version of the Terms or the DPA, when, and from where (P53).

    With an organisation, the person accepted on its behalf; without one, for
    themselves (a team member signing up through an invitation).
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="policy_acceptances"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="policy_acceptances")
    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = EncryptedTextField(max_length=45, blank=True, null=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "document"],
                condition=models.Q(organisation__isnull=False),
                name="one_acceptance_per_organisation_and_version",
            ),
            models.UniqueConstraint(
                fields=["user", "document"],
                condition=models.Q(organisation__isnull=True),
                name="one_personal_acceptance_per_version",
            ),
        ]

    def __str__(self):
        return f"{self.document} accepted by {self.user}"


# Free text written about a client (why it closed, what it must change) can name
# people: a sole trader, a director. It is kept encrypted on its own row, which
# retention and erasure reach, and never copied into the audit trail.
_FREE_TEXT_RETENTION = privacy.Retention(
    days=AFTER_CONTRACT_DAYS,
    after="organisation__contract_end",
    action=privacy.Action.ANONYMISE,
    basis="P29: part of the client's account record, kept for the contract and 6 years after it ends.",
)


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reason",),
    subject={"user": "changed_by"},
    organisation="organisation",
    retention=_FREE_TEXT_RETENTION,
    erasure=privacy.Action.ANONYMISE,
)
class OrganisationStatusChange(models.Model):
    """An organisation closed, suspended or reopened: by whom, when and why.

    Written only by accounts.services (organisation_close, _suspend, _reopen);
    the audit event of the change names this row instead of repeating the reason.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="status_changes")
    previous_status = models.CharField(max_length=16, choices=Organisation.Status.choices)
    status = models.CharField(max_length=16, choices=Organisation.Status.choices)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    reason = EncryptedTextField(max_length=1000, blank=True, null=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.organisation}: {self.get_previous_status_display()} → {self.get_status_display()}"


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("reason",),
    subject={"user": "decided_by"},
    organisation="organisation",
    retention=_FREE_TEXT_RETENTION,
    erasure=privacy.Action.ANONYMISE,
)
class OnboardingReview(models.Model):
    """A compliance decision on a new organisation (P19): the checklist, who, when, why."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Changes requested"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="onboarding_reviews")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    company_details_checked = models.BooleanField(
        default=False, help_text="Legal name, company number and address match the Companies House record."
    )
    dpa_accepted = models.BooleanField(
        default=False, help_text="The current Data Processing Agreement is accepted on the organisation's behalf."
    )
    lawful_basis_reviewed = models.BooleanField(
        default=False, help_text="The organisation's lawful-basis statement was read and is adequate."
    )
    dpa_version = models.PositiveIntegerField(null=True, blank=True, help_text="The DPA version on record at the review.")
    reason = EncryptedTextField(blank=True, null=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self):
        return f"{self.organisation}: {self.get_decision_display()} on {self.decided_at:%d %b %Y}"


@privacy.register(
    category=privacy.Category.SECURITY_LOG,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("started_at", "last_seen_at", "ended_at", "ip_address", "user_agent"),
    subject={"user": "user"},
    retention=privacy.Retention(
        days=90,
        after="last_seen_at",
        action=privacy.Action.DELETE,
        basis="P15: sign-in history for security monitoring, kept 90 days after the session was last used.",
    ),
    erasure=privacy.Action.DELETE,
)
class SignInSession(models.Model):
    """One signed-in browser, listed on the security page so it can be ended.

    The Django session holds `key`; no session key is stored here. Ending a
    session marks it, and the middleware signs that browser out on its next request.
    """

    SESSION_KEY = "accounts_sign_in"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_sessions")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    second_factor_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ip_address = EncryptedTextField(max_length=45, blank=True, null=True)
    user_agent = EncryptedTextField(max_length=300, blank=True, null=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self):
        return f"Session of {self.user} from {self.started_at:%d %b %Y %H:%M}"


# Django's own sessions hold who is signed in; an expired one is of no use to anyone.
privacy.register(
    Session,
    category=privacy.Category.SECURITY_LOG,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("session_data",),
    subject={},
    retention=privacy.Retention(
        days=0,
        after="expire_date",
        action=privacy.Action.DELETE,
        basis="P15: a browser session is deleted once it has expired.",
        survives="Nothing.",
    ),
    erasure=privacy.Action.DELETE,
)


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    # Recipients as tags (user:<id>): pseudonymous, so personal data.
    fields=("sent_to",),
    subject={},
    retention=privacy.Retention(
        days=90,
        after="sent_at",
        action=privacy.Action.DELETE,
        basis="A sent notice is kept 90 days, long after any redelivered task could look for it, then deleted.",
        survives="Nothing (the change it announced has its own audit event).",
    ),
    erasure=privacy.Action.DELETE,
)
class Notice(models.Model):
    """An e-mail the accounts app has decided to send, sent at most once to each recipient.

    The service that makes a change creates the notice in the same transaction,
    under a key naming that change (`Notice.key_for("api_key_created", key.pk)`),
    and passes the key to the task. The task sends through nextsupport.mail.send_once:
    a conditional UPDATE claims the notice, so a redelivered or duplicated task finds
    it sent (or being sent) and sends nothing; a transient failure releases the claim
    and the task retries, skipping the recipients already reached (`sent_to`).
    Keys and tags hold ids and random nonces only, never personal data.
    """

    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sending_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a worker began sending it. Left set if the worker stopped mid-send: the e-mail may have left, "
        "so it is never sent again automatically.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list, blank=True, help_text="Recipients reached so far, as tags (user:<id>, billing).")
    send_error = models.CharField(
        max_length=100, blank=True, help_text="Why the last attempt failed: the kind of error only, never its text."
    )

    def __str__(self):
        return self.key

    @staticmethod
    def key_for(kind: str, *ids) -> str:
        return ":".join([kind, *(str(part) for part in ids)])


def _new_salt() -> str:
    return secrets.token_hex(16)


# Unambiguous characters only (no 0/o, 1/l/i): the codes are typed from paper.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class BackupCodeDevice(ThrottlingMixin, TimestampMixin, Device):
    """One-time backup codes for when the authenticator app is not at hand.

    A django-otp device like django-otp's own static device, except that the
    codes are stored only as salted SHA-256 hashes: a leaked database does not
    hand out second factors. Each code works once.
    """

    CODE_COUNT = 10
    CODE_LENGTH = 12  # ~59 bits each

    salt = models.CharField(max_length=32, default=_new_salt, editable=False)
    code_hashes = models.JSONField(default=list, editable=False)

    class Meta:
        verbose_name = "backup codes"
        verbose_name_plural = "backup codes"

    def get_throttle_factor(self):
        return getattr(settings, "OTP_BACKUP_CODE_THROTTLE_FACTOR", 1)

    @staticmethod
    def normalise(code: str) -> str:
        return "".join(ch for ch in str(code).lower() if ch.isalnum())

    def _hash(self, code: str) -> str:
        return hashlib.sha256(f"{self.salt}:{self.normalise(code)}".encode()).hexdigest()

    def replace_codes(self) -> list[str]:
        """Fresh codes (formatted for reading), replacing every earlier one. Saves."""
        self.salt = _new_salt()
        raw = ["".join(secrets.choice(_CODE_ALPHABET) for _ in range(self.CODE_LENGTH)) for _ in range(self.CODE_COUNT)]
        self.code_hashes = [self._hash(code) for code in raw]
        self.save()
        return ["-".join(code[i : i + 4] for i in range(0, len(code), 4)) for code in raw]

    @property
    def remaining(self) -> int:
        return len(self.code_hashes)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        candidate = self._hash(token)
        match = next((h for h in self.code_hashes if hmac.compare_digest(h, candidate)), None)
        if match is None:
            self.throttle_increment(commit=True)
            return False
        self.code_hashes = [h for h in self.code_hashes if h != match]
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app: django-otp's TOTP device, with its secret encrypted.

    django-otp's own model keeps the seed as plain hex, so a database backup was
    enough to produce every user's codes. This one keeps the same fields, the seed
    in an encrypted field (the platform's key ring, rotated by
    rotate_encryption_keys), and verifies codes with django-otp's own methods,
    which only ever read the seed through `bin_key`. Migration 0010 moved every
    device here; django_otp.plugins.otp_totp stays installed for its migration
    history and refuses new rows (accounts.receivers).
    """

    # Its own reverse name: django-otp's model, still installed, has the default one.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="totp_devices",
        help_text="The user that this device belongs to.",
    )
    key = EncryptedTextField(
        max_length=80, validators=[key_validator], default=default_key, help_text="A hex-encoded secret key of up to 40 bytes."
    )
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(default=0, help_text="The Unix time at which to begin counting steps.")
    digits = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)], default=6, help_text="The number of digits to expect in a token."
    )
    tolerance = models.PositiveSmallIntegerField(default=1, help_text="The number of time steps in the past or future to allow.")
    drift = models.SmallIntegerField(
        default=0, help_text="The number of time steps the prover is known to deviate from our clock."
    )
    last_t = models.BigIntegerField(
        default=-1, help_text="The t value of the latest verified token. The next token must be at a higher time step."
    )

    # django-otp's verification, unchanged: the same functions, reading the decrypted seed.
    bin_key = PlainTOTPDevice.bin_key
    verify_token = PlainTOTPDevice.verify_token
    get_throttle_factor = PlainTOTPDevice.get_throttle_factor
    config_url = PlainTOTPDevice.config_url
    _read_str_from_settings = PlainTOTPDevice._read_str_from_settings

    class Meta(Device.Meta):
        verbose_name = "authenticator app"


# Third-party models that hold account data, declared here so data-subject
# requests and retention find them too.
_DEVICE_DECLARATION = dict(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("name", "confirmed", "created_at", "last_used_at"),
    subject={"user": "user"},
    retention=privacy.Retention(
        days=None, after=None, action=privacy.Action.DELETE, basis="Kept while the user account exists; deleted with it."
    ),
    erasure=privacy.Action.DELETE,
)
privacy.register(
    TOTPDevice,
    **{
        **_DEVICE_DECLARATION,
        "fields": (*_DEVICE_DECLARATION["fields"], "key"),
        # The seed is a credential, not information about the person: an access copy never carries it.
        "exporter": lambda device: {
            "model": "accounts.TOTPDevice",
            "id": device.pk,
            "name": device.name,
            "confirmed": device.confirmed,
            "created_at": device.created_at and device.created_at.isoformat(),
            "last_used_at": device.last_used_at and device.last_used_at.isoformat(),
        },
    },
)
privacy.register(BackupCodeDevice, **_DEVICE_DECLARATION)
privacy.register(
    EmailAddress,
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("email", "verified", "primary"),
    subject={"email": "email", "user": "user"},
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.DELETE,
        basis="The sign-in address and its verification state, kept while the user account exists.",
    ),
    erasure=privacy.Action.DELETE,
)
