"""Sign-in enforcement that must hold for every view, including ones other apps add later."""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .models import SignInSession
from .selectors import has_authenticator

# Everything a signed-in client or staff member can reach: the portal, the
# API, the admin and allauth's account pages.
PROTECTED_PREFIXES = ("/app/", "/api/", "/admin/", "/accounts/")

# Reachable before the second factor: finishing sign-in, leaving, and the
# steps of e-mail verification and password reset that arrive by link.
BEFORE_SECOND_FACTOR = {
    "accounts:two-factor-setup",
    "accounts:two-factor-verify",
    "account_logout",
    "account_confirm_email",
    "account_email_verification_sent",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_inactive",
    "api-schema",
    "api-docs",
}


class SecondFactorMiddleware:
    """No portal page, API call (with a session) or admin page until this session
    has passed its second factor (P25).

    Pages redirect to enrolment (no authenticator yet) or verification; the API
    answers 403 in DRF's error shape. API calls carrying an Authorization header
    are left to the API's own authentication (API keys).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path_info.startswith(PROTECTED_PREFIXES):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match and request.resolver_match.view_name in BEFORE_SECOND_FACTOR:
            return None
        if request.path_info.startswith("/api/"):
            if request.headers.get("Authorization"):
                return None
            return JsonResponse(
                {"detail": "Complete two-factor sign-in in the portal before using the API with your session."},
                status=403,
            )
        target = "accounts:two-factor-verify" if has_authenticator(user) else "accounts:two-factor-setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class SignInSessionMiddleware:
    """Signs a browser out when its session was ended from another one (security page,
    password change, account lock), and notes when each session was last used."""

    TOUCH_EVERY = datetime.timedelta(minutes=5)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.session.get(SignInSession.SESSION_KEY) if hasattr(request, "session") else None
        if key:
            self._check(request, key)
        return self.get_response(request)

    def _check(self, request, key: str) -> None:
        record = SignInSession.objects.filter(key=key).values("ended_at", "last_seen_at").first()
        if record is None or record["ended_at"] is not None:
            logout(request)
            messages.info(request, "You were signed out of this browser from another session.")
            return
        now = timezone.now()
        if now - record["last_seen_at"] > self.TOUCH_EVERY:
            SignInSession.objects.filter(key=key).update(last_seen_at=now)
