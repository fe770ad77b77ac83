"""allauth, adapted: account lockout and audit on sign-in, and where people go next."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services
from .models import User

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts: this account is locked for {minutes} minutes. "
    "Try again later, or reset your password to unlock it now."
)


def _user_for(credentials: dict) -> User | None:
    email = (credentials.get("email") or credentials.get("username") or "").strip()
    return User.objects.filter(email__iexact=email).first() if email else None


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request, **credentials):
        # Our lockout first: a locked account is refused even with the right
        # password, and that refusal is logged (P15).
        user = _user_for(credentials)
        if user is not None and user.is_locked():
            services.sign_in_refused_locked(user=user, request=request)
            minutes = max(1, round((user.locked_until - timezone.now()).total_seconds() / 60))
            raise ValidationError(LOCKED_MESSAGE.format(minutes=minutes), code="locked")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        services.sign_in_failed(user=_user_for(credentials), request=request, reason="password")

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL
