"""Discovery: every piece of personal data held about one person, found through the registry alone.

Driven only by `privacy.registrations()`: a model joins discovery by registering
(see docs/compliance.md), never by an import here. Each registration costs one
query whatever the number of rows found: the subject's identifiers are matched
in SQL, and the organisation each row belongs to comes back as an annotation
of the same query (no query per row).

Each item names its controller (P43): rows of client-supplied data belong to
that client's organisation; everything else is NextSupport's own, whatever
organisation it hangs off (a client user's membership is NextSupport's account
data), and has organisation_id None.
"""

from collections import defaultdict
from dataclasses import dataclass, replace

from django.db import models
from django.db.models import F

from nextsupport import privacy

# The annotation that carries each row's client organisation.
_ORGANISATION = "discovered_organisation_id"


@dataclass(frozen=True)
class Item:
    """One row of personal data about the subject."""

    registration: privacy.Registration
    obj: models.Model
    organisation_id: int | None  # None when NextSupport itself is the controller

    @property
    def controller(self) -> privacy.Controller:
        return self.registration.controller

    @property
    def category(self) -> privacy.Category:
        return self.registration.category

    @property
    def label(self) -> str:
        return self.registration.label

    def export(self) -> dict:
        return self.registration.export(self.obj)


@dataclass(frozen=True)
class Discovery:
    subject: privacy.Subject
    items: tuple[Item, ...]

    def is_empty(self) -> bool:
        return not self.items

    def by_controller(self) -> dict[int | None, tuple[Item, ...]]:
        """Items per controller: a client organisation's id, or None for NextSupport."""
        grouped: dict[int | None, list[Item]] = defaultdict(list)
        for item in self.items:
            grouped[item.organisation_id].append(item)
        return {key: tuple(items) for key, items in grouped.items()}

    def by_category(self) -> dict[privacy.Category, tuple[Item, ...]]:
        grouped: dict[privacy.Category, list[Item]] = defaultdict(list)
        for item in self.items:
            grouped[privacy.Category(item.category)].append(item)
        return {key: tuple(items) for key, items in grouped.items()}

    def organisation_ids(self) -> set[int]:
        return {item.organisation_id for item in self.items if item.organisation_id is not None}


def find(subject: privacy.Subject, *, organisation_ids: set[int | None] | None = None) -> Discovery:
    """Everything held about `subject`; with `organisation_ids`, only what those controllers hold (None: NextSupport)."""
    subject = with_user_account(subject)
    items: list[Item] = []
    if subject.is_empty():
        return Discovery(subject=subject, items=())
    for registration in privacy.registrations():
        if not _in_scope(registration, organisation_ids):
            continue
        items.extend(_items_of(registration, subject, organisation_ids))
    return Discovery(subject=subject, items=tuple(items))


def rows_in_scope(
    registration: privacy.Registration, subject: privacy.Subject, organisation_ids: set[int | None] | None
) -> models.QuerySet:
    """The registration's rows about `subject`, limited to the controllers asked for, each with its organisation."""
    if not _in_scope(registration, organisation_ids):
        return registration.model._base_manager.none()
    queryset = registration.rows_for(subject)
    path = _client_organisation_path(registration)
    if path is None:
        return queryset
    queryset = queryset.annotate(**{_ORGANISATION: F(path)})
    if organisation_ids is not None:
        queryset = queryset.filter(**{f"{path}__in": [pk for pk in organisation_ids if pk is not None]})
    return queryset


def _items_of(registration, subject, organisation_ids) -> list[Item]:
    # No ORDER BY (compiling one costs more than the query): the few rows found are sorted here.
    rows = sorted(rows_in_scope(registration, subject, organisation_ids).order_by(), key=lambda obj: obj.pk)
    return [Item(registration=registration, obj=obj, organisation_id=getattr(obj, _ORGANISATION, None)) for obj in rows]


def _client_organisation_path(registration: privacy.Registration) -> str | None:
    """The path to the client organisation that controls the rows, or None when NextSupport does."""
    if registration.controller != privacy.Controller.CLIENT or not registration.organisation:
        return None
    return registration.organisation


def _in_scope(registration, organisation_ids) -> bool:
    if organisation_ids is None:
        return True
    if _client_organisation_path(registration) is None:
        return None in organisation_ids
    return any(pk is not None for pk in organisation_ids)


def with_user_account(subject: privacy.Subject) -> privacy.Subject:
    """The subject with the user account its e-mail address signs in with, if any.

    Memberships, sessions and acceptances name the user, not the address: the
    address is matched once, on the registration of the user model itself
    (the one whose `user` path is its own id).
    """
    if subject.user_id is not None or subject.email is None:
        return subject
    for registration in privacy.registrations():
        if registration.subject.get("user") in ("id", "pk") and "email" in registration.subject:
            user_id = registration.rows_for(privacy.Subject(email=subject.email)).values_list("pk", flat=True).first()
            if user_id is not None:
                return replace(subject, user_id=user_id)
    return subject
