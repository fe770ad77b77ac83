"""allauth, adapted: account lockout and audit on sign-in, and where people go next."""

import uuid
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from nextsupport import mail

from . import services, tasks
from .models import Notice, User

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
