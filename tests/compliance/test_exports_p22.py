"""P22: personal data is never sold or shared for third-party marketing, because no path exists for it.

Two walks prove it, and both fail for anything added later without a decision:

1. Every view that hands out a file (CSV, JSON, ZIP, audio: anything sent with
   Content-Disposition, through nextsupport.exports, FileResponse or zipfile, directly or
   through a helper) is found by reading the code of every route in the URL resolver and every
   ModelAdmin method. Each must be classified in EXPORTS by who receives it, and the route must
   enforce it: the organisation's own members and keys (organisation-scoped, 404 to outsiders),
   NextSupport staff in the 2FA admin, or the data subject through their own verified link.
   An export nobody classified fails the test.
2. Every module that opens a network connection (an HTTP, SMTP or socket client, the Twilio REST
   client) is listed in OUTBOUND with where its data goes: a sub-processor serving the service
   (which must be in the sub-processor register), the client's own endpoint, or our own server.
"""

import ast
import enum
import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from compliance.models import SubProcessor
from compliance.records import derivable_services

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "campaigns", "consumers", "compliance", "cookies", "nextsupport")
# Code that hands a file to whoever made the request.
MARKERS = ("csv_response", "Content-Disposition", "FileResponse", "as_attachment", "zipfile", "ZipFile")


class Audience(enum.Enum):
    ORGANISATION = "the organisation's own authenticated members and API keys"
    STAFF = "NextSupport staff, in the admin behind the second factor"
    DATA_SUBJECT = "the data subject, through their own verified link"


# module:qualname of the view -> who receives what it exports.
EXPORTS = {
    "accounts.views:export": Audience.ORGANISATION,  # the account export (P39)
    "consumers.views:list_export": Audience.ORGANISATION,
    "consumers.views:import_problems_csv": Audience.ORGANISATION,
    "consumers.views:import_rejected_rows_csv": Audience.ORGANISATION,
    "consumers.api:ListExportApi.get": Audience.ORGANISATION,
    "consumers.api:ImportProblemsApi.get": Audience.ORGANISATION,
    "consumers.api:RejectedRowsApi.get": Audience.ORGANISATION,
    "campaigns.views:results_csv": Audience.ORGANISATION,
    "campaigns.views:statement_csv": Audience.ORGANISATION,
    "campaigns.views:recording_play": Audience.ORGANISATION,  # a call recording, streamed to the client's member
    "compliance.admin_breaches:BreachAdmin.ico_report_view": Audience.STAFF,  # to the ICO, by staff, without personal data
    "compliance.admin_records:ProcessingActivityAdmin.record_csv": Audience.STAFF,
    # Staff run a request again: the access copy is rebuilt into storage, not handed to them.
    "compliance.admin:DataSubjectRequestAdmin.run_again": Audience.STAFF,
    "compliance.request_views:download": Audience.DATA_SUBJECT,
}

# Module -> where its outbound connections go.
SUB_PROCESSOR = "sub-processor"
CLIENTS_OWN = "the client's own endpoint, which it configured (the client is controller)"
OUR_OWN = "our own server"
OUTBOUND = {
    "campaigns.telephony.twilio": (SUB_PROCESSOR, "telephony:twilio"),
    "campaigns.conversation.replies": (SUB_PROCESSOR, "llm:chat-completions"),
    "nextsupport.mail": (SUB_PROCESSOR, "email:smtp"),
    "campaigns.client_webhooks": (CLIENTS_OWN, None),
    # The simulator plays the phone network on a developer machine: it calls our own webhooks.
    "campaigns.telephony.simulator.network": (OUR_OWN, None),
}
NETWORK_MODULES = re.compile(
    r"^(requests|httpx|urllib3|urllib\.request|http\.client|smtplib|socket|ftplib|aiohttp|boto3|botocore|paramiko|"
    r"twilio\.rest|twilio\.http)(\.|$)"
)


# --- Reading the code -----------------------------------------------------------------------------


def _project_modules():
    for app in APPS:
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            # Settings modules read the environment of their own deployment when imported.
            if ".migrations" in info.name or info.name.startswith("nextsupport.settings"):
                continue
            yield importlib.import_module(info.name)


@functools.cache
def _functions() -> dict[str, ast.AST]:
    """Every function and method in the project's app code, by module:qualname."""
    found = {}
    for module in _project_modules():
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError):
            continue
        _collect(tree, module.__name__, "", found)
    return found


def _collect(node, module: str, prefix: str, found: dict) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            found[f"{module}:{prefix}{child.name}"] = child
            _collect(child, module, f"{prefix}{child.name}.<locals>.", found)
        elif isinstance(child, ast.ClassDef):
            _collect(child, module, f"{prefix}{child.name}.", found)


def _called_names(node) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _marks_a_file(node) -> bool:
    source = ast.unparse(node)
    return any(marker in source for marker in MARKERS)


@functools.cache
def _producers() -> set[str]:
    """Names of the module-level functions that hand out a file, directly or through another one (a fixed point).

    Only module-level functions are followed: a method name (get, post, save_model) is shared by too
    many classes to tell which one a call reaches. Methods that export are found as views themselves.
    """
    helpers = {key: node for key, node in _functions().items() if "." not in key.split(":")[1]}
    producers = {key.split(":")[1] for key, node in helpers.items() if _marks_a_file(node)}
    while True:
        more = {key.split(":")[1] for key, node in helpers.items() if _called_names(node) & producers} - producers
        if not more:
            return producers
        producers |= more


def _is_export(key: str) -> bool:
    node = _functions().get(key)
    return node is not None and (_marks_a_file(node) or bool(_called_names(node) & _producers()))


# --- Walking the routes ---------------------------------------------------------------------------


def _routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _view_keys(callback) -> list[str]:
    """module:qualname of the code a route runs: the unwrapped function, or every method of its class."""
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return [
            f"{klass.__module__}:{klass.__qualname__}.{name}"
            for klass in view_class.__mro__
            if klass.__module__.split(".")[0] in APPS
            for name, member in vars(klass).items()
            if inspect.isfunction(member)
        ]
    func = inspect.unwrap(callback)
    func = getattr(func, "__func__", func)
    return [f"{func.__module__}:{func.__qualname__}"]


def _export_views() -> dict[str, str]:
    """Export view key -> the route that reaches it (admin methods that are not routes: their admin)."""
    found = {}
    for route, callback in _routes():
        for key in _view_keys(callback):
            if key.split(":")[0].split(".")[0] in APPS and _is_export(key):
                found.setdefault(key, route)
    for model_admin in admin.site._registry.values():
        klass = type(model_admin)
        for _name, member in inspect.getmembers(klass, inspect.isfunction):
            key = f"{member.__module__}:{member.__qualname__}"
            if member.__module__.split(".")[0] in APPS and _is_export(key):
                found.setdefault(key, f"admin/{model_admin.opts.app_label}/{model_admin.opts.model_name}/ (action)")
    return found


# --- The proofs -----------------------------------------------------------------------------------


@pytest.mark.obligation("P22")
def test_every_export_is_classified_by_who_receives_it():
    found = _export_views()

    unclassified = sorted(set(found) - set(EXPORTS))
    stale = sorted(set(EXPORTS) - set(found))
    assert not unclassified, (
        f"These views hand out files but nobody said who receives them: {unclassified}. "
        "Add each to EXPORTS with its audience; an export to anyone else is not allowed (P22)."
    )
    assert not stale, f"EXPORTS names views that no longer export or no longer exist: {stale}"


@pytest.mark.obligation("P22")
def test_each_export_reaches_only_its_audience():
    found = _export_views()

    for key, audience in EXPORTS.items():
        route = found[key]
        if audience is Audience.ORGANISATION:
            assert "<int:org_id>" in route, f"{key} ({route}) is not under an organisation's URL"
            assert _organisation_scoped(key), f"{key} does not go through accounts.access's organisation scoping"
        elif audience is Audience.STAFF:
            assert route.startswith("admin/"), f"{key} ({route}) is not in the admin"
        else:
            assert _verified_link_only(key), f"{key} does not check the requester's verified session and a signed, expiring link"


def _verified_link_only(key: str) -> bool:
    """The view refuses a browser that has not proved it is the requester, and a link that is unsigned or old.
    (tests/compliance/test_requests_intake.py proves the behaviour; this pins every data-subject export to it.)"""
    module_name, qualname = key.split(":")
    source = inspect.getsource(getattr(importlib.import_module(module_name), qualname))
    return "VERIFIED_KEY" in source and "unsign_object" in source and "max_age=" in source


def _organisation_scoped(key: str) -> bool:
    """The view runs inside accounts.access.organisation_view, or is a method of an OrganisationAPIView."""
    from accounts.access import OrganisationAPIView

    module_name, qualname = key.split(":")
    module = importlib.import_module(module_name)
    owner, *method = qualname.split(".")
    target = getattr(module, owner)
    if method:
        return isinstance(target, type) and issubclass(target, OrganisationAPIView)
    while target is not None:  # the decorator's wrapper, by its code (functools.wraps copies the names)
        if target.__code__.co_qualname.startswith("organisation_view.<locals>"):
            return True
        target = getattr(target, "__wrapped__", None)
    return False


def test_the_walk_finds_an_export_added_later():
    """The detector itself: a new view returning a CSV, directly or through a helper, counts as an export."""
    tree = ast.parse(
        textwrap.dedent(
            """
            def helper(rows):
                return csv_response("x.csv", ["a"], rows)

            def new_view(request):
                return helper([])

            def harmless(request):
                return render(request, "page.html")
            """
        )
    )
    functions = {f"demo:{n.name}": n for n in tree.body}
    producers = {"csv_response"} | {k.split(":")[1] for k, n in functions.items() if _marks_a_file(n)}

    assert "helper" in producers
    assert _called_names(functions["demo:new_view"]) & producers
    assert not _called_names(functions["demo:harmless"]) & producers


@pytest.mark.obligation("P22", "P20")
def test_outbound_connections_go_only_to_sub_processors_the_clients_own_endpoint_or_ourselves(db):
    opening = {}
    for module in _project_modules():
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError):
            continue
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        network = sorted(name for name in imported if NETWORK_MODULES.match(name))
        if network:
            opening[module.__name__] = network

    unlisted = sorted(set(opening) - set(OUTBOUND))
    assert not unlisted, (
        f"These modules open network connections with no stated destination: { {m: opening[m] for m in unlisted} }"
    )
    registered = set(SubProcessor.objects.values_list("service", flat=True))
    for module, (kind, service) in OUTBOUND.items():
        if kind == SUB_PROCESSOR:
            assert service in derivable_services(), f"{module}: {service} is not a service the configuration can name"
            # A provider the seed does not register yet (the language model) is flagged by compliance.W001 when used.
            assert service in registered or service == "llm:chat-completions", f"{module}: {service} is not in the register"
