import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from nextsupport import ratelimit
from nextsupport.models import PolicyDocument
from nextsupport.net import client_ip
from nextsupport.views import policy_context

from . import consent_cookie, services
from .forms import parse_choice
from .selectors import banner_version, published_cookie_policy_versions, register_by_category

MAX_BODY_BYTES = 2048


@require_GET
def cookie_policy(request, version: int | None = None):
    """The cookie policy: its published introduction, then the register as it is today."""
    context = policy_context(PolicyDocument.Kind.COOKIES, version)
    context["register"] = register_by_category()
    return render(request, "cookies/policy.html", context)


def _same_origin(request) -> bool:
    """Whether a POST came from one of our own pages.

    The consent endpoint skips Django's token check, because it must work for a
    first visit without a session or CSRF cookie (and setting one before the
    visitor chose anything is what we want to avoid). Instead the browser's own
    word is required: Sec-Fetch-Site "same-origin", or an Origin header naming
    this site. A cross-site form cannot forge either, and a cross-site fetch
    cannot send JSON without a preflight we never answer.
    """
    # request.META rather than request.headers: building the latter costs more than this whole check.
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return False
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return parts.scheme == request.scheme and parts.netloc == request.get_host()


def _too_large(request) -> bool:
    """Whether the body is over MAX_BODY_BYTES, judged by its declared length before reading it.

    Without this, a body over DATA_UPLOAD_MAX_MEMORY_SIZE would get Django's HTML
    "Bad Request" page instead of our JSON answer, and anything smaller would be
    read into memory only to be refused.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # as Django itself reads a malformed length
    return declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES


def _error(message: str, status: int, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": message, **({"errors": errors} if errors else {})}, status=status)


def _within_limit(request) -> bool:
    """The per-network limit on recorded choices, counted in process memory and settled with
    the shared count every 2% of the limit: an ordinary visit costs no cache round trip."""
    limit = settings.COOKIE_CONSENT_LIMIT_PER_HOUR
    return ratelimit.allow("cookie-consent", request, limit=limit, window=3600, batch=max(1, limit // 50))


def _own_consent_id(request, claimed):
    """The visitor's consent id if their own consent cookie holds it, else None (a new one is made).

    Anyone may know someone's id (it is shown in the preferences centre and quoted
    to staff), so a posted id alone must not add choices to that visitor's proof.
    """
    if claimed is None or claimed.hex != consent_cookie.consent_id_hex(request.COOKIES.get(consent_cookie.NAME)):
        return None
    return claimed


@csrf_exempt  # protected by _same_origin and the JSON content type instead; see there
@require_POST
def record_consent(request):
    """Log a visitor's choice (P18) and set the first-party consent cookie. One INSERT, no session."""
    if not _same_origin(request):
        return _error("Consent can only be recorded from this site's own pages.", 403)
    if request.content_type != "application/json":
        return _error("Send the choice as JSON (Content-Type: application/json).", 415)
    if _too_large(request):
        return _error("The request body is too large.", 413)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return _error("The request body is not valid JSON.", 400)
    data, errors = parse_choice(payload)
    if errors:
        return _error("The choice could not be recorded.", 400, errors)
    if data["banner_version"] != banner_version():
        return _error("The cookie banner has changed since this page loaded: reload the page and choose again.", 409)
    if not published_cookie_policy_versions.contains(data["policy_version"]):
        return _error(f"Cookie policy version {data['policy_version']} is not published.", 400)
    if not _within_limit(request):
        return _error("Too many cookie choices came from your network in the last hour, so this one was not recorded.", 429)
    # The browser's own Global Privacy Control header counts even if the script did not see it.
    gpc = data["gpc"] or request.META.get("HTTP_SEC_GPC") == "1"
    record = services.consent_record(
        consent_id=_own_consent_id(request, data["consent_id"]),
        categories=data["categories"],
        policy_version=data["policy_version"],
        banner_version=data["banner_version"],
        gpc=gpc,
        ip=client_ip(request),
    )
    response = JsonResponse(
        {
            "consent_id": str(record.consent_id),
            "categories": record.categories,
            "policy_version": record.policy_version,
            "gpc": record.gpc,
        },
        status=201,
    )
    consent_cookie.attach(response, record, secure=request.is_secure())
    return response
