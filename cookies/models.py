"""The cookie register and the consent log.

The register lists every cookie, storage item and script the public site uses;
the cookie policy page, the preferences centre and the deletion of cookies on
withdrawal are all generated from it, so what we say is what we do. The consent
log is the proof of each visitor's choice (P18), kept 12 months (P32).
"""

import uuid

from django.db import models
from django.utils import timezone

from nextsupport import privacy


class Category(models.TextChoices):
    NECESSARY = "necessary", "Strictly necessary"
    FUNCTIONAL = "functional", "Functional"
    ANALYTICS = "analytics", "Analytics"
    MARKETING = "marketing", "Marketing"


# Everything but strictly necessary needs consent, and none of it is on by default.
OPTIONAL_CATEGORIES = (Category.FUNCTIONAL, Category.ANALYTICS, Category.MARKETING)

CATEGORY_DESCRIPTIONS = {
    Category.NECESSARY: "Needed for the site to work: remembering your cookie choices, keeping forms secure and keeping "
    "clients signed in. They are always on and never used to track you.",
    Category.FUNCTIONAL: "Remember choices you make on the site to make it easier to use.",
    Category.ANALYTICS: "Tell us how many people visit which pages, so we can improve the site. The figures are "
    "aggregated and not tied to you as a person.",
    Category.MARKETING: "Measure and personalise advertising on other sites.",
}


class RegisterEntry(models.Model):
    """One cookie, storage item or script the public site sets or loads."""

    class Kind(models.TextChoices):
        COOKIE = "cookie", "Cookie"
        STORAGE = "storage", "Browser storage"
        SCRIPT = "script", "Script"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COOKIE)
    name = models.CharField(max_length=100, help_text="The cookie, storage key or script name, as the browser shows it.")
    matches_prefix = models.BooleanField(
        default=False,
        help_text="The name is a prefix (e.g. '_ga_' for '_ga_<container id>'): withdrawal deletes every cookie starting with it.",
    )
    category = models.CharField(max_length=12, choices=Category.choices)
    provider = models.CharField(max_length=100, help_text="Who sets it: 'NextSupport' or the third party's name.")
    purpose = models.TextField(help_text="What it is for, in plain words for visitors.")
    duration = models.CharField(max_length=60, help_text="How long it lasts, e.g. '12 months', 'Until you close the browser'.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order within its category on the cookie policy.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "position", "name"]
        verbose_name = "cookie register entry"
        verbose_name_plural = "cookie register"
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="one_register_entry_per_name")]

    def __str__(self):
        return f"{self.name} ({self.get_category_display()})"

    @property
    def display_name(self) -> str:
        return f"{self.name}*" if self.matches_prefix else self.name


@privacy.register(
    category=privacy.Category.COOKIE_CONSENT,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("consent_id", "categories", "policy_version", "banner_version", "gpc", "ip_hash", "created_at"),
    # Visitors are anonymous: a request names the consent id their browser holds,
    # and discovery finds the records by it.
    subject={"cookie_consent": "consent_id"},
    retention=privacy.Retention(
        days=365, after="created_at", action=privacy.Action.DELETE, basis="P32: cookie-consent data kept at most 12 months."
    ),
    erasure=privacy.Action.DELETE,
)
class ConsentRecord(models.Model):
    """One choice a visitor made (or their browser's Global Privacy Control made for them).

    Exactly what proves the choice and nothing more: no user, no user agent, no
    full IP address. `ip_hash` is a keyed hash of the truncated address
    (IPv4 /24, IPv6 /48), enough to tell records from one network apart.
    Rows are only ever added; a later choice is a new row with the same consent id.
    """

    # Made when the choice arrives, so a record buffered on its way here (cookies.buffer) lands exactly once.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consent_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    # The optional categories allowed, sorted (strictly necessary is implied); [] is a refusal.
    categories = models.JSONField(default=list, blank=True)
    policy_version = models.PositiveIntegerField(help_text="Version of the cookie policy the visitor was shown.")
    banner_version = models.CharField(max_length=16, help_text="Fingerprint of the banner and preferences wording shown.")
    gpc = models.BooleanField(help_text="The browser sent the Global Privacy Control signal.")
    ip_hash = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "cookie consent record"

    def __str__(self):
        return f"{self.consent_id} at {self.created_at:%Y-%m-%d %H:%M}"
