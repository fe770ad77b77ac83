"""The public pages of data-subject requests: the form at /your-rights/, verification, the request's page.

What a page says before verification never depends on what we hold: the same
words, the same redirects, whatever the identifiers. The request's page (its
receipt, the download) opens only to a session that proved an identifier of it.
"""

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cookies import consent_cookie
from nextsupport import ratelimit
from nextsupport.fields import digest

from . import requests, selectors
from .forms import DataRequestForm, VerificationCodeForm

PENDING_KEY = "rights_request_pending"
VERIFIED_KEY = "rights_requests_verified"
DOWNLOAD_SALT = "compliance.request-package-download"
DOWNLOAD_LINK_SECONDS = 10 * 60


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"compliance/rights/{template}", context, status=status)


def _identifier_keys(data: dict) -> list[str]:
    # Keyed digests, never the identifiers themselves, go into the cache keys.
    return [digest(kind, data[kind]).hex() for kind in ("phone", "email") if data.get(kind)]


def _allowed(request, data: dict) -> bool:
    if not ratelimit.allow("rights-request", request, limit=settings.RIGHTS_REQUEST_LIMIT_PER_HOUR, window=3600):
        return False
    return all(
        ratelimit.allow_key("rights-request-identifier", key, limit=settings.RIGHTS_REQUEST_LIMIT_PER_IDENTIFIER, window=86400)
        for key in _identifier_keys(data)
    )


@require_http_methods(["GET", "POST"])
def your_rights(request):
    form = DataRequestForm(request.POST or None)
    if request.method != "POST":
        return _page(request, "your_rights.html", {"form": form})
    if form.is_bot():
        return redirect("rights-verify")  # answered like a person; nothing stored or sent
    if not form.is_valid():
        return _page(request, "your_rights.html", {"form": form}, status=400)
    data = form.cleaned_data
    if not _allowed(request, data):
        form.add_error(None, "You have made several requests in a short time. Please wait a day, or e-mail our Compliance Team.")
        return _page(request, "your_rights.html", {"form": form}, status=429)
    cookie_id = consent_cookie.consent_id_hex(request.COOKIES.get(consent_cookie.NAME)) if data["cookies"] else ""
    dsr = requests.request_submit(
        kind=data["kind"],
        phone=data["phone"],
        email=data["email"],
        name=data["name"],
        details=data["details"],
        cookie_consent_id=cookie_id,
        request=request,
    )
    request.session[PENDING_KEY] = dsr.reference
    return redirect("rights-verify")


def _verified(request, dsr) -> None:
    references = set(request.session.get(VERIFIED_KEY, []))
    request.session[VERIFIED_KEY] = sorted(references | {dsr.reference})
    request.session.pop(PENDING_KEY, None)


@require_http_methods(["GET", "POST"])
def verify(request):
    """Enter the code sent by e-mail or text, for the request this browser made or asked a new code for.

    The page reads the same whether the reference exists or not: it names only what the browser gave.
    """
    reference = request.session.get(PENDING_KEY)
    form = VerificationCodeForm(request.POST or None)
    context = {"form": form, "reference": reference}
    if request.method != "POST" or not reference:
        return _page(request, "verify.html", context)
    if not form.is_valid():
        return _page(request, "verify.html", context, status=400)
    if not ratelimit.allow("rights-verify", request, limit=settings.RIGHTS_VERIFY_LIMIT_PER_HOUR, window=3600):
        form.add_error("code", "Too many codes were tried from your network. Please wait an hour, then ask for a new code.")
        return _page(request, "verify.html", context, status=429)
    dsr = selectors.request_by_reference(reference)
    try:
        if dsr is None:
            raise requests.VerificationError("That code is not the one we sent. Check it and try again.")
        dsr = requests.challenge_verify_code(dsr=dsr, code=form.cleaned_data["code"], request=request)
    except requests.VerificationError as error:
        form.add_error("code", str(error))
        return _page(request, "verify.html", context, status=400)
    return _after_proof(request, dsr)


def _after_proof(request, dsr):
    if dsr.state == dsr.State.AWAITING_VERIFICATION:
        # One identifier proved, another still to go (phone and e-mail both given).
        request.session[PENDING_KEY] = dsr.reference
        return redirect("rights-verify")
    _verified(request, dsr)
    return redirect("rights-request", reference=dsr.reference)


@require_http_methods(["GET", "POST"])
def verify_link(request, token: str):
    """The link in the e-mail. A GET only shows a button: mail scanners that open links do not use it up."""
    if request.method != "POST":
        return _page(request, "verify_link.html", {})
    try:
        dsr = requests.challenge_verify_token(token=token, request=request)
    except requests.VerificationError as error:
        return _page(request, "verify_link.html", {"error": str(error)}, status=400)
    return _after_proof(request, dsr)


def _download_token(dsr) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign_object([dsr.pk, dsr.package_name])


@require_http_methods(["GET", "POST"])
def request_page(request, reference: str):
    """A request's page: its progress, receipt and copy, after the requester proved it is them."""
    dsr = selectors.request_by_reference(reference)
    if dsr is None or reference not in request.session.get(VERIFIED_KEY, []):
        return _ask_again(request, dsr, reference)
    parts = list(dsr.parts.select_related("organisation"))
    context = {
        "dsr": dsr,
        "receipt": selectors.request_receipt(dsr, parts),
        "parts": parts,
        "download_token": _download_token(dsr) if dsr.package_name else "",
        "download_minutes": DOWNLOAD_LINK_SECONDS // 60,
    }
    return _page(request, "request.html", context)


def _ask_again(request, dsr, reference: str):
    """Not proved in this browser: offer a new code. Said the same way whether the reference exists or not."""
    if request.method == "POST":
        allowed = ratelimit.allow("rights-request", request, limit=settings.RIGHTS_REQUEST_LIMIT_PER_HOUR, window=3600)
        if allowed and dsr is not None and ratelimit.allow_key("rights-code-again", str(dsr.pk), limit=5, window=86400):
            requests.challenges_issue(dsr=dsr, again=True)
        request.session[PENDING_KEY] = reference
        return redirect("rights-verify")
    return _page(request, "ask_again.html", {"reference": reference})


def download(request, reference: str, token: str):
    """The copy of the data: a signed link that lives 10 minutes, for the verified requester only; audited."""
    dsr = selectors.request_by_reference(reference)
    if dsr is None or not dsr.package_name or reference not in request.session.get(VERIFIED_KEY, []):
        raise Http404("No such download.")
    try:
        value = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign_object(token, max_age=DOWNLOAD_LINK_SECONDS)
    except signing.SignatureExpired:
        return _page(request, "download_expired.html", {"dsr": dsr}, status=410)
    except signing.BadSignature:
        raise Http404("No such download.") from None
    if value != [dsr.pk, dsr.package_name]:
        raise Http404("No such download.")
    content = requests.package_content(dsr)
    requests.package_downloaded(dsr=dsr, request=request)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{dsr.reference}.zip"'
    response["Cache-Control"] = "no-store"
    return response
