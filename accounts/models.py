"""Client users, the organisations they belong to, and their roles."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from nextsupport import privacy
from nextsupport.fields import EncryptedTextField


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
    anonymised={"email": lambda user: f"erased-user-{user.pk}@erased.invalid"},
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.ANONYMISE,
        basis="P29: kept for the contract and 6 years after it ends; counted from the organisation's contract end.",
    ),
    erasure=privacy.Action.ANONYMISE,
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


class Organisation(models.Model):
    """A client business. Every client-owned record hangs off one."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    legal_name = models.CharField(max_length=200)
    company_number = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organisations")

    def __str__(self):
        return self.legal_name


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
    EXPORT_DATA = "export_data", "Export personal data"
    MANAGE_MEMBERS = "manage_members", "Invite, change and remove members"
    MANAGE_API_KEYS = "manage_api_keys", "Create and revoke API keys"
    MANAGE_ORGANISATION = "manage_organisation", "Edit the organisation profile and billing"
    CLOSE_ORGANISATION = "close_organisation", "Close the organisation's account"


_MANAGER = {
    Capability.VIEW,
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


@privacy.register(
    category=privacy.Category.CLIENT_ACCOUNT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("organisation", "role", "created_at"),
    subject={"user": "user"},
    organisation="organisation",
    retention=privacy.Retention(
        days=None,
        after=None,
        action=privacy.Action.DELETE,
        basis="P29: kept while the person is a member; deleted with the account.",
    ),
    erasure=privacy.Action.DELETE,
)
class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.get_role_display()})"

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]
