from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import documents
from .health import run_checks
from .models import PolicyDocument
from .selectors import current_policy, policy_history, published_policy

# The public page of each policy kind (the DPA reaches clients through their account, not the site).
POLICY_PAGES = {
    PolicyDocument.Kind.PRIVACY: "privacy-policy",
    PolicyDocument.Kind.COOKIES: "cookie-policy",
    PolicyDocument.Kind.TERMS: "terms",
    PolicyDocument.Kind.ACCESSIBILITY: "accessibility",
    PolicyDocument.Kind.SUBPROCESSORS: "sub-processors",
}


def policy_url(kind: str, version: int | None = None) -> str | None:
    name = POLICY_PAGES.get(kind)
    if name is None:
        return None
    return reverse(f"{name}-version", args=[version]) if version else reverse(name)


@never_cache
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(check.ok for check in checks)
    body = {"status": "ok" if healthy else "error", "checks": {check.name: check.as_dict() for check in checks}}
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
def home(request):
    return render(request, "pages/home.html")


def policy_context(kind: str, version: int | None = None) -> dict:
    """What pages/policy.html needs to show `kind` (the version in force, or an archived one).

    A kind with nothing published yet gives `document=None`: the page says so
    instead of failing, so a footer link is never a dead end.
    """
    if version is None:
        document = current_policy(kind)
    else:
        document = published_policy(kind, version)
        if document is None:
            raise Http404(f"There is no published version {version} of the {PolicyDocument.Kind(kind).label.lower()}.")
    meta, blocks = documents.parse(document.body) if document else ("", [])
    history = [
        {"document": doc, "url": policy_url(kind, doc.version)}
        for doc in policy_history(kind)
        if document is None or doc.pk != document.pk
    ]
    current = current_policy(kind) if version is not None else document
    return {
        "kind": kind,
        "title": PolicyDocument.Kind(kind).label,
        "document": document,
        "meta": meta,
        "blocks": blocks,
        "history": history,
        "is_archived": version is not None and (current is None or current.pk != document.pk),
        "current_url": policy_url(kind),
    }


@require_GET
def policy(request, kind: str, version: int | None = None):
    return render(request, "pages/policy.html", policy_context(kind, version))


# --- Error answers: pages in the site's layout, JSON under /api/ -------------------------------


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(detail: str, status: int) -> JsonResponse:
    # DRF's shape, so an integrator reads every error the same way.
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request, exception):
    if _is_api(request):
        return _api_error("The request could not be understood.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return _api_error("You do not have permission to do this.", 403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return _api_error("Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _api_error("Something went wrong on our side. It has been logged; please try again later.", 500)
    return defaults.server_error(request)
