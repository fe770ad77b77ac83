"""The outsider walk: every route of the URL resolver, tried by another client.

`walk()` takes every URL pattern (so routes other apps add later are covered
without touching this file), fills its parameters with the victim's ids and
tokens, and requests it as the outsider: signed in to the portal, and with
the outsider organisation's API key for API routes. It returns every
response that is not a plain refusal:

- a route naming the victim organisation, or any object of the victim's,
  must answer 404 (or 405 for a method the route does not take), or exactly
  what it answers for an id that exists nowhere (a 403 the outsider gets for
  lacking a capability in their own organisation, whatever the id, tells
  them nothing about the victim);
- a route without parameters must not show any of the victim's data;
- afterwards, no row belonging to the victim may have changed.
"""

import itertools
import re
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Organisation, User

# Not client routes: the staff-only admin (its own tests prove it is closed to
# clients), allauth's own sign-in pages, the API's description, static files.
SKIPPED_PREFIXES = ("admin/", "accounts/", "api/schema/", "api/docs/", "static/", "media/")
REFUSED = {404, 405}
# Parameters that number public documents (the policy archive's version-N), never a client's row:
# a victim's id that happens to equal a published version number must not count as a leak.
PUBLIC_PARAMETERS = {"version"}
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass
class Victim:
    organisation: Organisation
    markers: list[str]  # strings only the victim's data contains
    ids: dict[type[models.Model], set[int]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)

    def all_ids(self) -> list[int]:
        return sorted({pk for pks in self.ids.values() for pk in pks})


@dataclass
class Leak:
    method: str
    url: str
    status: int
    why: str

    def __str__(self):
        return f"{self.method} {self.url} -> {self.status}: {self.why}"


def routes(resolver=None, prefix: str = ""):
    """(route string, pattern) for every URL pattern, nested includes flattened."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def client_routes() -> list[str]:
    found = []
    for route, _ in routes():
        if route.startswith("^") or route.startswith(SKIPPED_PREFIXES):
            continue  # regex routes here are only the skipped apps'; a new one would be listed below
        found.append(route)
    return sorted(set(found))


def regex_routes_outside_skipped() -> list[str]:
    """Regex routes cannot be filled in automatically; none may exist outside the skipped prefixes."""
    bad = []
    for route, _ in routes():
        if route.startswith("^"):
            plain = route.lstrip("^")
            if not plain.startswith(SKIPPED_PREFIXES) and "(?P<" in plain:
                bad.append(route)
    return bad


def bump_sequences(start: int = 700_000) -> None:
    """Give every table's ids a distinct range from here on, so an id names exactly one row."""
    with connection.cursor() as cursor:
        for offset, model in enumerate(m for m in apps.get_models() if isinstance(m._meta.pk, models.AutoField)):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)",
                [model._meta.db_table, model._meta.pk.column, start + offset * 1000],
            )


def owned_rows(organisation: Organisation) -> dict[type[models.Model], models.QuerySet]:
    """Every row that belongs to the organisation or to one of its members."""
    member_ids = list(User.objects.filter(memberships__organisation=organisation).values_list("pk", flat=True))
    found = {Organisation: Organisation.objects.filter(pk=organisation.pk), User: User.objects.filter(pk__in=member_ids)}
    for model in apps.get_models():
        conditions = models.Q()
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is Organisation:
                conditions |= models.Q(**{f.name: organisation})
            elif f.is_relation and f.related_model is User and f.name not in ("created_by", "revoked_by", "invited_by"):
                conditions |= models.Q(**{f"{f.name}__in": member_ids})
        if conditions and model not in found:
            found[model] = model._base_manager.filter(conditions)
    return found


def snapshot(organisation: Organisation) -> dict[str, list]:
    return {
        model._meta.label: sorted((repr(sorted(row.items())) for row in qs.values()), key=str)
        for model, qs in owned_rows(organisation).items()
    }


def collect_ids(victim: Victim, outsider_org: Organisation) -> None:
    """The victim's ids, minus any id that also names one of the outsider's own rows."""
    own = {pk for qs in owned_rows(outsider_org).values() for pk in qs.values_list("pk", flat=True)}
    victim.tokens = [t for t in victim.tokens if t]
    for model, qs in owned_rows(victim.organisation).items():
        victim.ids[model] = {pk for pk in qs.values_list("pk", flat=True) if isinstance(pk, int)} - own
        for f in model._meta.concrete_fields:
            if isinstance(f, models.UUIDField):
                victim.uuids += [str(v) for v in qs.values_list(f.name, flat=True)]


def _candidates(converter: str, name: str, victim: Victim, own_org_id: int) -> list:
    if name == "org_id":
        return [victim.organisation.pk, own_org_id]
    if converter == "int":
        return victim.all_ids()
    if converter == "uuid":
        return victim.uuids or [str(uuid.uuid4())]
    return [*victim.tokens, "x"]  # str, slug, path


_ABSENT = {"int": 2_000_000_000, "uuid": "00000000-0000-4000-8000-000000000000"}


def _fill(route: str, values) -> str:
    url = route
    for value in values:
        url = _CONVERTER.sub(str(value), url, count=1)
    return "/" + url


def urls_for(route: str, victim: Victim, own_org_id: int, limit: int = 400):
    """(url, names a victim value, the same url with every victim value replaced
    by one that exists nowhere) for every filling of the route's parameters."""
    params = _CONVERTER.findall(route)
    if not params:
        yield "/" + route, False, None
        return
    choices = [_candidates(conv, name, victim, own_org_id) for conv, name in params]
    for combo in itertools.islice(itertools.product(*choices), limit):
        victim_values = [
            not ((name == "org_id" and value == own_org_id) or name in PUBLIC_PARAMETERS)
            for (_, name), value in zip(params, combo, strict=True)
        ]
        if any(victim_values):
            absent = [
                _ABSENT.get(conv, "absent-token") if is_victim else value
                for (conv, _), value, is_victim in zip(params, combo, victim_values, strict=True)
            ]
            yield _fill(route, combo), True, _fill(route, absent)


def walk(session_client, api_client, victim: Victim, own_org_id: int, *, only=None) -> list[Leak]:
    """`only` (a predicate on the route string) narrows the walk, for a test about particular routes."""
    leaks = []
    for route in client_routes():
        if only is not None and not only(route):
            continue
        is_api = route.startswith("api/")
        methods = ["get", "post", "put", "patch", "delete"] if is_api else ["get", "post"]
        for url, names_victim, absent_url in urls_for(route, victim, own_org_id):
            for client in (session_client, api_client) if is_api else (session_client,):
                for method in methods:
                    response = getattr(client, method)(url)
                    leak = _judge(client, method, url, response, names_victim, absent_url, victim)
                    if leak:
                        leaks.append(leak)
    return leaks


def _status(client, method, url) -> int | None:
    """The status a request gets, or None when the view crashes on it."""
    try:
        return getattr(client, method)(url).status_code
    except Exception:
        return None


def _judge(client, method, url, response, names_victim, absent_url, victim) -> Leak | None:
    status = response.status_code
    if names_victim and status not in REFUSED and _status(client, method, absent_url) != status:
        return Leak(method.upper(), url, status, "a URL naming the victim's data was not refused with 404")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    shown = [marker for marker in victim.markers if marker in text]
    if shown:
        return Leak(method.upper(), url, status, f"the response shows the victim's data: {shown}")
    return None


def read_walk(clients, victim: Victim, own_org_id: int) -> list[Leak]:
    """GET every route, filled with the organisation's own ids, and report each answer showing a marker.

    For a member inside the organisation (a viewer): a page or endpoint they may
    open must still not show what their role may not see. GET only: a viewer's
    POSTs are refused by capability, which the capability tests prove route by route.
    """
    leaks = []
    for route in client_routes():
        for url, _, _ in urls_for(route, victim, own_org_id):
            for client in clients:
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                shown = [marker for marker in victim.markers if marker in body.decode(errors="replace")]
                if shown:
                    leaks.append(Leak("GET", url, response.status_code, f"the response shows {shown}"))
    return leaks
