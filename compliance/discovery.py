"""Discovery: every piece of personal data held about one person, found through the registry alone.

Driven only by `privacy.registrations()`: a model joins discovery by registering
(see docs/compliance.md), never by an import here. Each registration costs one
query whatever the number of rows found: the subject's identifiers are matched
in SQL, and the organisation each row belongs to comes back as an annotation
of the same query (no query per row).

Building those querysets costs several times the queries themselves (issue 12's
target is within 3x of the bare SQL), so each registration's query is compiled
by the ORM once per shape (how many values of each identifier kind, how many
organisations) and its SQL kept; later requests of that shape only bind their
values and build the rows as the ORM would (converters, `from_db`).

Each item names its controller (P43): rows of client-supplied data belong to
that client's organisation; everything else is NextSupport's own, whatever
organisation it hangs off (a client user's membership is NextSupport's account
data), and has organisation_id None.
"""

from collections import defaultdict
from dataclasses import dataclass, replace

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F

from nextsupport import privacy
from nextsupport.fields import BlindIndexField

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
    indexed, entries = _compiled_for(registration)
    values = _values(registration, indexed, subject, organisation_ids)
    shape = tuple(len(v) for v in values)
    compiled = entries.get(shape, _MISSING)
    if compiled is _MISSING:
        compiled, params = _compile(registration, subject, organisation_ids, values)
        if compiled is None or compiled.slots is not None:
            # None: this shape matches nothing (no identifier of the registration's kinds), and runs no query.
            entries[shape] = compiled
    elif compiled is not None:
        params = compiled.bind(values)
    if compiled is None:
        return []
    rows = compiled.run(params)
    # No ORDER BY (compiling one costs more than the query): the few rows found are sorted here.
    rows.sort(key=lambda pair: pair[0].pk)
    return [Item(registration=registration, obj=obj, organisation_id=organisation_id) for obj, organisation_id in rows]


def _items_of_orm(registration, subject, organisation_ids) -> list[Item]:
    """The same items through the ORM alone: the reference the compiled path is tested against."""
    rows = sorted(rows_in_scope(registration, subject, organisation_ids).order_by(), key=lambda obj: obj.pk)
    return [Item(registration=registration, obj=obj, organisation_id=getattr(obj, _ORGANISATION, None)) for obj in rows]


# ---- Compiled discovery queries -------------------------------------------------------------

_MISSING = object()
# id(registration) -> (registration, which kinds are blind indexes, {shape: _Compiled or None}).
# The registration is held so its id is never reused; models are static, so nothing is ever invalidated.
_cache: dict[int, tuple[privacy.Registration, dict[str, bool], dict]] = {}


def _compiled_for(registration) -> tuple[dict[str, bool], dict]:
    held = _cache.get(id(registration))
    if held is None or held[0] is not registration:
        held = _cache[id(registration)] = (registration, _indexed_kinds(registration), {})
    return held[1], held[2]


def _values(registration, indexed, subject, organisation_ids) -> tuple[list, ...]:
    """What the registration's query compares, per identifier kind in declaration order, then the organisations."""
    found = [subject.values_for(kind, indexed=indexed[kind]) for kind in registration.subject]
    if organisation_ids is not None and _client_organisation_path(registration) is not None:
        found.append([pk for pk in organisation_ids if pk is not None])
    return tuple(found)


def _indexed_kinds(registration) -> dict[str, bool]:
    return {
        kind: isinstance(privacy._final_field(registration.model, path), BlindIndexField)
        for kind, path in registration.subject.items()
    }


@dataclass(frozen=True)
class _Compiled:
    """One registration's discovery query for one shape of request, as the ORM compiled it."""

    model: type[models.Model]
    using: str
    sql: str
    # For each parameter: (which list of values, which value, the driver's wrapper type or None).
    # None when the parameters could not be traced to the values (the SQL is then not reused).
    slots: tuple[tuple[int, int, type | None], ...] | None
    columns: tuple  # the selected expressions, for their converters
    init_list: tuple[str, ...]  # the model's field attnames, in column order
    organisation_column: int | None

    def bind(self, values: tuple[list, ...]) -> list:
        bound = []
        for group, at, wrap in self.slots:
            value = values[group][at]
            bound.append(value if wrap is None else wrap(value))
        return bound

    def run(self, params: list) -> list[tuple[models.Model, int | None]]:
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        converters = [
            (i, [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)], column)
            for i, column in enumerate(self.columns)
        ]
        converters = [entry for entry in converters if entry[1]]
        fields = len(self.init_list)
        found = []
        for row in rows:
            row = list(row)
            for i, functions, column in converters:
                for function in functions:
                    row[i] = function(row[i], column, connection)
            obj = self.model.from_db(self.using, self.init_list, row[:fields])
            organisation_id = None if self.organisation_column is None else row[self.organisation_column]
            if self.organisation_column is not None:
                setattr(obj, _ORGANISATION, organisation_id)
            found.append((obj, organisation_id))
        return found


def _compile(registration, subject, organisation_ids, values) -> tuple[_Compiled | None, list]:
    """Compile the registration's query through the ORM, as `rows_in_scope` builds it; None when it matches nothing."""
    queryset = rows_in_scope(registration, subject, organisation_ids).order_by()
    if queryset.query.is_empty():
        return None, []
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None, []
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    if klass_info.get("related_klass_infos") or start != 0:
        raise ValueError(f"{registration.label}: discovery expects a plain model query, without select_related.")
    compiled = _Compiled(
        model=klass_info["model"],
        using=queryset.db,
        sql=sql,
        slots=_trace(params, values),
        columns=tuple(column for column, _, _ in compiler.select),
        init_list=tuple(column.target.attname for column, _, _ in compiler.select[start:end]),
        organisation_column=compiler.annotation_col_map.get(_ORGANISATION),
    )
    return compiled, list(params)


def _trace(params, values) -> tuple | None:
    """Which value each parameter carries; None when one is ambiguous or unknown (e.g. a user id equal to an organisation id).

    Tracing the values the ORM was given keeps the SQL exactly the ORM's: a shape
    whose parameters cannot be traced is simply compiled again next time.
    """
    slots = []
    for param in params:
        plain = _plain(param)
        matches = [
            (group, at)
            for group, candidates in enumerate(values)
            for at, value in enumerate(candidates)
            if type(_plain(value)) is type(plain) and _plain(value) == plain
        ]
        if len(matches) != 1:
            return None
        # Keep the driver's adapter (e.g. psycopg's Binary, Int8) so the bound values are adapted as the ORM's were.
        wrap = type(param) if type(param).__module__.startswith("psycopg") else None
        slots.append((*matches[0], wrap))
    return tuple(slots)


def _plain(value):
    """A parameter as a plain Python value, without the driver's wrapper."""
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if hasattr(value, "obj") and type(value).__module__.startswith("psycopg"):
        return _plain(value.obj)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


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
