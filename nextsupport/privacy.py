"""The personal-data registry: every model that holds personal data declares it here.

Data-subject requests (access, portability, erasure) and retention purges are
driven entirely by these declarations, so a model that holds personal data but
is not registered would silently escape both. `check_registry()` (also a Django
system check, so `manage.py check` fails) refuses any model with an encrypted
field or a stand-alone blind index (a number kept only as its digest) that is
not registered, a stand-alone index that no data-subject request would search,
and any registration that names a missing field.

    @privacy.register(
        category=privacy.Category.CONSUMER,
        controller=privacy.Controller.CLIENT,
        fields=("name", "phone", "email"),
        subject={"phone": "phone_index", "email": "email_index"},
        organisation="organisation",
        retention=privacy.Retention(days=30, after="campaign_ended_at", action=privacy.Action.DELETE,
                                    basis="P30: deleted within 30 days after the campaign"),
        erasure=privacy.Action.DELETE,
    )
    class Consumer(models.Model): ...
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.db import models
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from .fields import BlindIndexField, EncryptedField, digest
from .identifiers import NORMALISERS


class Category(models.TextChoices):
    CLIENT_ACCOUNT = "client_account", "Client account"
    CLIENT_CONTACT = "client_contact", "Client contact details"
    CONSUMER = "consumer", "Consumer contact data"
    CONSENT = "consent", "Consent evidence"
    SUPPRESSION = "suppression", "Opt-out and suppression"
    CALL_INTERACTION = "call_interaction", "Call interaction data"
    RECORDING = "recording", "Call recording"
    COOKIE_CONSENT = "cookie_consent", "Cookie consent record"
    FORM_SUBMISSION = "form_submission", "Website form submission"
    DATA_SUBJECT_REQUEST = "data_subject_request", "Data-subject request"
    SECURITY_LOG = "security_log", "Security and audit log"


class Controller(models.TextChoices):
    NEXTSUPPORT = "nextsupport", "NextSupport (controller)"
    CLIENT = "client", "The client (NextSupport is processor)"


class Action(models.TextChoices):
    DELETE = "delete", "Delete the rows"
    ANONYMISE = "anonymise", "Clear the personal fields, keep the row"
    RETAIN = "retain", "Keep (a legal obligation requires it)"


@dataclass(frozen=True)
class Sooner:
    """A second clock: rows also expire `days` after the date at `after`, whichever comes first."""

    days: int
    after: str


@dataclass(frozen=True)
class Retention:
    """How long rows live: `days` after the date found at `after` (a field path).

    `sooner` adds clocks of which the first to run out wins (an enquiry: a year
    after it arrived, or 30 days after it was resolved), so the whole rule is
    declared here and the purge needs nothing else. `survives` says, for people,
    what is left once the rule has run (shown with the rule in the admin).
    """

    days: int | None
    after: str | None
    action: Action
    basis: str
    sooner: tuple[Sooner, ...] = ()
    survives: str = ""

    def cutoff(self, now: datetime.datetime | None = None, *, days: int | None = None) -> datetime.datetime | None:
        days = self.days if days is None else days
        if days is None:
            return None
        return (now or timezone.now()) - datetime.timedelta(days=days)

    @property
    def runs(self) -> bool:
        """Whether a purge ever removes or clears rows under this rule."""
        return self.days is not None and bool(self.after) and self.action != Action.RETAIN


@dataclass(frozen=True)
class Subject:
    """Who a data-subject request is about; any identifier may be missing.

    `phone_index` / `email_index` are blind-index digests standing in for a
    number or address we no longer hold in clear (the erasure log keeps only
    those, and replays them after a restore). `cookie_consent_id` is the id a
    visitor's browser holds for its cookie choices: their only identifier.
    """

    phone: str | None = None
    email: str | None = None
    user_id: int | None = None
    phone_index: bytes | None = None
    email_index: bytes | None = None
    cookie_consent_id: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)

    def values_for(self, kind: str, *, indexed: bool) -> list:
        """What to compare a registration's `kind` path with: digests for a blind index, else the plain values."""
        if kind == "user":
            return [] if self.user_id is None else [self.user_id]
        if kind == "cookie_consent":
            return [] if self.cookie_consent_id is None else [uuid.UUID(str(self.cookie_consent_id))]
        raw = getattr(self, kind)
        if not indexed:
            return [] if raw is None else [NORMALISERS[kind](raw)]
        return self._digests[kind]

    @cached_property
    def _digests(self) -> dict[str, list[bytes]]:
        # Normalising and hashing once per subject, not once per registration that matches it.
        found = {}
        for kind in ("phone", "email"):
            raw, index = getattr(self, kind), getattr(self, f"{kind}_index")
            values = [] if raw is None else [digest(kind, raw)]
            found[kind] = values if index is None or index in values else [*values, bytes(index)]
        return found


# Identifier kinds a registration's `subject` may name.
SUBJECT_KINDS = ("phone", "email", "user", "cookie_consent")


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    category: Category
    controller: Controller
    fields: tuple[str, ...]
    # identifier kind ("phone", "email", "user") -> field path that matches it
    subject: dict[str, str]
    retention: Retention
    erasure: Action
    organisation: str | None = None
    # Values written by Action.ANONYMISE (default: None for every declared field);
    # a callable value is called with the row.
    anonymised: dict[str, object] = field(default_factory=dict)
    exporter: Callable[[models.Model], dict] | None = None
    # Stored files that hold personal data and go with the row: field name -> storage alias.
    files: dict[str, str] = field(default_factory=dict)
    # A retention purge that needs more than deleting rows in batches (the audit
    # trail drops its oldest events with a signed checkpoint): a dotted path to
    # `purge(cutoff, batch_size) -> int`, resolved when it runs.
    purger: str | None = None
    # Erasure that needs more than deleting or clearing fields (e.g. also
    # revoking sessions): called with the queryset, returns rows affected.
    eraser: Callable[[models.QuerySet], int] | None = None
    # The contents of the row's stored file as its subject receives them in an access copy (e.g. decrypted);
    # called with the row, returns bytes. Without it, the file is deleted with the row but never handed out
    # (an uploaded list holds many people's data).
    file_reader: Callable[[models.Model], bytes] | None = None
    # What an erasure receipt tells the person about these rows, in plain words:
    # why they are kept (RETAIN) or what is left of them (ANONYMISE).
    erasure_note: str = ""
    # Rectification that must go through the owning app's service (validation,
    # audit, derived fields): called as rectifier(obj, changes, actor), returns the row.
    rectifier: Callable[[models.Model, dict, object], models.Model] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows_for(self, subject: Subject) -> models.QuerySet:
        """Every row of this model that is about `subject`."""
        manager = self.model._base_manager
        conditions = models.Q()
        semi_joins = []
        for kind, path in self.subject.items():
            indexed = isinstance(_final_field(self.model, path), BlindIndexField)
            values = subject.values_for(kind, indexed=indexed)
            if not values:
                continue
            if kind in ("phone", "email") and not indexed:
                # A plain identifier column (the login e-mail): compare normalised, as
                # lower case, the form its case-insensitive unique index is built on.
                conditions |= models.Q(Exact(Lower(path), values[0]))
            elif "__" in path:
                # Through a relation, as a semi-join of its own: OR-ed into the other
                # conditions, an inner join would drop rows whose related row is gone
                # (a consent entry outlives its consumer record).
                semi_joins.append(manager.filter(**{f"{path}__in": values}).values("pk"))
            else:
                conditions |= models.Q(**{f"{path}__in": values})
        if not semi_joins:
            return manager.filter(conditions) if conditions else manager.none()
        # One IN over a UNION ALL of the ways to reach the rows: PostgreSQL drives each
        # arm by its own index and fetches the rows by key. A semi-join OR-ed with other
        # conditions is instead a filter tested against every row of the table.
        arms = [manager.filter(conditions).values("pk"), *semi_joins] if conditions else semi_joins
        return manager.filter(pk__in=arms[0].union(*arms[1:], all=True) if len(arms) > 1 else arms[0])

    def export(self, obj: models.Model) -> dict:
        if self.exporter:
            return self.exporter(obj)
        data = {"model": self.label, "id": obj.pk}
        for name in self.fields:
            field = obj._meta.get_field(name)
            # A relation's id, read from the row itself: exporting many rows costs no query per row.
            value = getattr(obj, field.attname if field.is_relation and field.concrete else name)
            if isinstance(value, models.Model):
                value = value.pk
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            data[name] = value
        return data

    def expired(self, now: datetime.datetime | None = None, *, days: int | None = None) -> models.QuerySet:
        """Rows whose retention period has run out (none when retention is not time-based).

        `days` replaces the declared period (a shorter one set by compliance
        staff); the `sooner` clocks still apply, shortened likewise if need be.
        Rows already anonymised are not expired again.
        """
        cutoff = self.retention.cutoff(now, days=days)
        if cutoff is None or not self.retention.after:
            return self.model._base_manager.none()
        now = now or timezone.now()
        conditions = models.Q(**{f"{self.retention.after}__lt": cutoff})
        for clock in self.retention.sooner:
            sooner_days = clock.days if days is None else min(clock.days, days)
            conditions |= models.Q(**{f"{clock.after}__lt": now - datetime.timedelta(days=sooner_days)})
        queryset = self.model._base_manager.filter(conditions)
        if self.retention.action == Action.ANONYMISE and (pending := self.not_anonymised()) is not None:
            queryset = queryset.filter(pending)
        return queryset

    def anonymised_values(self) -> dict[str, object]:
        return {name: self.anonymised.get(name) for name in self.fields}

    def not_anonymised(self) -> models.Q | None:
        """Rows that still hold what anonymising clears; None when that cannot be told in SQL
        (an anonymised value computed in Python), and every row is then cleared again."""
        condition = models.Q()
        for name, value in self.anonymised_values().items():
            if callable(value):
                return None
            if value is None:
                condition |= models.Q(**{f"{name}__isnull": False})
            elif not isinstance(_final_field(self.model, name), EncryptedField):
                condition |= ~models.Q(**{name: value})
        return condition or None

    def erase(self, queryset: models.QuerySet) -> int:
        """Apply the erasure rule to `queryset`; returns the number of rows affected."""
        if self.eraser:
            return self.eraser(queryset)
        if self.erasure == Action.DELETE:
            return queryset.delete()[1].get(self.label, 0)
        if self.erasure == Action.ANONYMISE:
            return anonymise(self, queryset)
        return 0


def anonymise(registration: Registration, queryset: models.QuerySet) -> int:
    """Clear the declared fields; returns the rows changed. A row already anonymised is left
    alone and not counted, so erasing twice reports what the first erasure did only once.

    One UPDATE when every value is known in SQL (constants, expressions, None); row by
    row only for a value computed in Python from the row."""
    values = registration.anonymised_values()
    indexes = _index_names(registration.model, values)
    if (pending := registration.not_anonymised()) is not None:
        queryset = queryset.filter(pending)
    if any(callable(value) for value in values.values()) or any(values[source] is not None for source in indexes.values()):
        return _anonymise_rows(queryset, values, list(indexes))
    # A source cleared to None clears its blind index too.
    return queryset.model._base_manager.filter(pk__in=queryset.values("pk")).update(**values, **dict.fromkeys(indexes))


def _anonymise_rows(queryset, values: dict, indexes: list[str]) -> int:
    count = 0
    for obj in queryset.iterator(chunk_size=500):
        target = {name: value(obj) if callable(value) else value for name, value in values.items()}
        if all(getattr(obj, name) == value for name, value in target.items()):
            continue
        for name, value in target.items():
            setattr(obj, name, value)
        obj.save(update_fields=[*values, *indexes])
        count += 1
    return count


def _index_names(model, names) -> dict[str, str]:
    """Blind indexes computed from one of `names`: index name -> source name."""
    return {f.name: f.source for f in model._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source in names}


_registry: dict[type[models.Model], Registration] = {}


def register(model=None, **declaration):
    """Register a model (as a class decorator, or called with the model first)."""

    def add(cls):
        _registry[cls] = Registration(model=cls, **declaration)
        return cls

    return add(model) if model is not None else add


def registrations() -> list[Registration]:
    return list(_registry.values())


def registration_for(model) -> Registration | None:
    return _registry.get(model)


def check_registry(app_registry=None) -> list[str]:
    """Problems with the registry, as sentences; empty when every model is covered."""
    problems = []
    for model in (app_registry or apps).get_models():
        encrypted = {f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedField)}
        # An index with no source is all that is kept of a person's number: still personal data.
        stand_alone = {f.name for f in model._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source is None}
        entry = _registry.get(model)
        if entry is None:
            if encrypted or stand_alone:
                problems.append(
                    f"{model._meta.label} holds personal data ({', '.join(sorted(encrypted | stand_alone))}) "
                    "but is not in the personal-data registry."
                )
            continue
        undeclared = encrypted - set(entry.fields)
        if undeclared:
            problems.append(
                f"{model._meta.label}: encrypted fields {', '.join(sorted(undeclared))} are not declared in its registration."
            )
        unsearched = stand_alone - set(entry.subject.values())
        if unsearched:
            problems.append(
                f"{model._meta.label}: blind indexes {', '.join(sorted(unsearched))} are not in its subject, "
                "so data-subject requests would not find those rows."
            )
        unknown = set(entry.subject) - set(SUBJECT_KINDS)
        if unknown:
            problems.append(
                f"{model._meta.label}: subject names {', '.join(sorted(unknown))}; "
                f"the identifiers a request can carry are {', '.join(SUBJECT_KINDS)}."
            )
        for path in [*entry.fields, *entry.subject.values(), *([entry.organisation] if entry.organisation else [])]:
            if not _path_exists(model, path):
                problems.append(f"{model._meta.label}: registration names {path!r}, which is not a field path of the model.")
        if entry.retention.after and not _path_exists(model, entry.retention.after):
            problems.append(
                f"{model._meta.label}: retention is counted from {entry.retention.after!r}, which is not a field path."
            )
    return problems


def _final_field(model, path: str):
    """The field at the end of a `a__b__c` path, or None when the path does not exist."""
    current, found = model, None
    for part in path.split("__"):
        if current is None:
            return None
        try:
            found = current._meta.get_field(part)
        except Exception:
            return None
        current = found.related_model if found.is_relation else None
    return found


def _path_exists(model, path: str) -> bool:
    return _final_field(model, path) is not None
