"""allauth, adapted: paused sign-ins and audit on sign-in, and where people go next."""

import uuid
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from nextsupport import mail

from . import services, sign_in_limits, tasks
from .models import Notice, User

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

    def send_mail(self, template_prefix, email, context):
        """allauth's e-mails (password reset, address confirmation, notices) go out like every other:
        queued, sent once, retried if the mail server is briefly away (nextsupport.mail)."""
        context = {**context, "site_url": settings.SITE_URL.rstrip("/"), "compliance_email": settings.COMPLIANCE_EMAIL}
        message = self.render_mail(template_prefix, email, context)
        notice = Notice.objects.create(key=Notice.key_for("account_email", uuid.uuid4().hex))
        tasks.send_account_email.delay_on_commit(notice.key, email, message.subject, message.body)

    def get_reset_password_from_key_url(self, key):
        # From the one SITE_URL, like every other link we e-mail, not from whichever host the request named.
        # allauth's route takes the key in two parts; its own builder joins them the same way.
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return mail.absolute(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation):
        return mail.absolute(reverse("account_confirm_email", args=[emailconfirmation.key]))
