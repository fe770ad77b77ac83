"""The audit trail: an append-only, hash-chained record of security and privacy events."""

from django.conf import settings
from django.db import models

from . import privacy


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(self.model.refuse_update)

    def delete(self):
        raise PermissionError(self.model.refuse_delete)


class AppendOnlyModel(models.Model):
    """Evidence written once: the model, its queryset and (in a migration) a database
    trigger refuse every update and delete. Subclasses say why in their refusals."""

    refuse_update = "This record is append-only: it cannot be changed."
    refuse_delete = "This record is append-only: it cannot be deleted."

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(self.refuse_update)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(self.refuse_delete)


@privacy.register(
    category=privacy.Category.SECURITY_LOG,
    controller=privacy.Controller.NEXTSUPPORT,
    fields=("ip_address", "ip_network", "ip_digest"),
    subject={"user": "actor_id"},
    retention=privacy.Retention(
        days=6 * 366,
        after="occurred_at",
        action=privacy.Action.DELETE,
        basis="P26: the audit trail is legal-obligation evidence, kept 6 years and never altered; then its oldest "
        "events are removed, and a signed checkpoint of the last one removed keeps the rest verifiable.",
        survives="The signed checkpoint: a sequence number and a hash, nothing about anyone.",
    ),
    erasure=privacy.Action.RETAIN,
    purger="nextsupport.audit.purge_expired",
    erasure_note="Kept: the security and audit record of who accessed or changed personal data is kept 6 years "
    "and never altered; it holds ids and network addresses, not what the data said.",
)
class AuditEvent(AppendOnlyModel):
    """One event. `hash` covers every other column and the previous event's hash.

    Rows are written only by nextsupport.audit.record(); the model, its queryset,
    the admin and a database trigger all refuse updates and deletes.
    """

    sequence = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    # No foreign-key constraint and DO_NOTHING: deleting a user must not rewrite history.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=100, help_text="Who acted when not a user: 'system', a task name, 'anonymous'.")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Where an event came from, without the address (see docs/architecture.md): the network
    # (IPv4 /24, IPv6 /48) and a keyed hash of the address, equal for events from one address.
    # Text, not inet/cidr: the hash covers exactly the string written.
    ip_network = models.CharField(max_length=49, blank=True)
    ip_digest = models.CharField(max_length=32, blank=True, db_index=True)
    # The full address, as events written before ip_network and ip_digest kept it.
    # Never written now; those events keep it because their hash covers it.
    ip_address = models.CharField(max_length=45, blank=True, editable=False)
    reason = models.TextField(blank=True)
    # Counts, field names, ids: never the personal data itself.
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    refuse_update = "The audit trail is append-only: events cannot be updated."
    refuse_delete = "The audit trail is append-only: events cannot be deleted."

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"#{self.sequence} {self.action} by {self.actor_label}"


class PolicyDocument(models.Model):
    """One version of a published legal text (P53).

    Staff edit drafts in the admin; publishing fixes the text. The version a
    visitor sees is the newest published one whose effective date has come.
    Accounts record which Terms/DPA version each client accepted; the cookie
    banner asks again when the cookie policy's version changes.
    """

    class Kind(models.TextChoices):
        PRIVACY = "privacy", "Privacy policy"
        COOKIES = "cookies", "Cookie policy"
        TERMS = "terms", "Terms of Service"
        DPA = "dpa", "Data Processing Agreement"
        ACCESSIBILITY = "accessibility", "Accessibility statement"
        SUBPROCESSORS = "subprocessors", "Sub-processors"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary_of_changes = models.TextField(blank=True, help_text="Shown with the notice when the change is significant.")
    body = models.TextField(
        help_text="Plain text: a short line without a full stop is a heading; lines starting with '- ' are a list."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_date = models.DateField()
    significant_change = models.BooleanField(
        default=False, help_text="Significant changes are announced on the site and e-mailed to clients."
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set once when the e-mail about a significant change is claimed for sending,
    # so a redelivered task never e-mails clients twice.
    clients_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Publishing fixes these: a change means drafting a new version.
    FIXED_ON_PUBLISH = ("kind", "version", "title", "summary_of_changes", "body", "effective_date", "significant_change")

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="one_policy_version_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self._refuse_editing_published(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _refuse_editing_published(self, update_fields):
        if update_fields is not None and not set(update_fields) & set(self.FIXED_ON_PUBLISH):
            return
        stored = type(self).objects.filter(pk=self.pk).values(*self.FIXED_ON_PUBLISH, "status").first()
        if stored is None or stored.pop("status") != self.Status.PUBLISHED:
            return
        changed = [name for name, value in stored.items() if getattr(self, name) != value]
        if changed:
            raise PermissionError(
                f"{self} is published and cannot be edited ({', '.join(changed)} changed): draft a new version instead."
            )


class BlindIndexRotation(models.Model):
    """A key added to the blind-index chain, and when every stored digest was re-keyed under it.

    The rows, in order, are the chain the database's digests are under; a process
    configured with another chain would compute digests that match nothing, so
    /healthz reports it (nextsupport.blind_index_rotation).
    """

    key_id = models.CharField(max_length=64, unique=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    rows = models.JSONField(default=dict, help_text="Digests re-keyed, per model.")

    class Meta:
        ordering = ["applied_at", "pk"]

    def __str__(self):
        return f"Blind-index key {self.key_id} ({self.applied_at:%Y-%m-%d})"


class AuditCheckpoint(models.Model):
    """Where the audit trail starts once its oldest events are purged (nextsupport.audit.purge_expired).

    The last removed event's sequence and hash, signed with AUDIT_CHECKPOINT_KEY:
    the first event kept must follow it, so verification starts here instead of
    at the genesis hash and still detects any change, removal or reordering.
    A checkpoint holds no personal data; every one written is kept.
    """

    sequence = models.BigIntegerField(unique=True, help_text="The last event removed.")
    hash = models.CharField(max_length=64, help_text="That event's hash: the next event's previous-hash.")
    removed = models.BigIntegerField(help_text="Events removed by the purge that wrote this checkpoint.")
    created_at = models.DateTimeField(auto_now_add=True)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]

    def __str__(self):
        return f"Audit trail starts after event #{self.sequence}"
