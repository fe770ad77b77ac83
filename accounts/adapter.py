"""allauth, adapted: paused sign-ins and audit on sign-in, and where people go next."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError

from . import services, sign_in_limits
from .models import User

# The same words whether or not the address has an account: they must not tell.
PAUSED_MESSAGE = (
    "Too many failed sign-in attempts: sign-in with this address is paused for {minutes} minutes. "
    "Try again later, or reset your password."
)


def _login(credentials: dict) -> str:
    return (credentials.get("email") or credentials.get("username") or "").strip()


def _user_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first() if email else None


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request, **credentials):
        # A paused address is refused even with the right password, and the refusal is logged (P15).
        email = _login(credentials)
        pause = sign_in_limits.pause_for(email, request)
        if pause is not None:
            services.sign_in_throttled(user=_user_for(email), request=request, pause=pause)
            raise ValidationError(PAUSED_MESSAGE.format(minutes=pause.minutes), code="locked")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        email = _login(credentials)
        services.sign_in_failed(email=email, user=_user_for(email), request=request, reason="password")

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL
