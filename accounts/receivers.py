"""Reactions to events from Django, allauth and the platform: sign-in sessions, the audit
trail, and e-mailing clients about significant policy changes (P53)."""

from allauth.account import signals as allauth_signals
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from nextsupport import audit
from nextsupport.signals import policy_published

from . import events, services, tasks
from .models import SignInSession


@receiver(pre_save, sender=PlainTOTPDevice, dispatch_uid="accounts.no_plain_totp_secrets")
def refuse_plain_totp_secrets(sender, instance, **kwargs):
    # django-otp's own model stores the seed in clear: authenticators live in accounts.TOTPDevice.
    raise PermissionError("Authenticator secrets are stored encrypted: use accounts.models.TOTPDevice.")


@receiver(auth_signals.user_logged_in)
def start_sign_in_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.sign_in_session_start(user=user, request=request)


@receiver(auth_signals.user_logged_out)
def end_sign_in_session(sender, request, user, **kwargs):
    if request is None or user is None:
        return
    key = request.session.get(SignInSession.SESSION_KEY)
    if key:
        services.sign_in_session_close(key=key)
    audit.record(events.SIGNED_OUT, request=request, actor=user, target=user)


@receiver(allauth_signals.user_signed_up)
def signed_up(sender, request, user, **kwargs):
    audit.record(events.SIGNED_UP, request=request, actor=user, target=user)


@receiver(allauth_signals.email_confirmed)
def email_verified(sender, request, email_address, **kwargs):
    audit.record(events.EMAIL_VERIFIED, request=request, target=email_address.user)


@receiver(allauth_signals.email_changed)
def email_changed(sender, request, user, **kwargs):
    audit.record(events.EMAIL_CHANGED, request=request, target=user)


@receiver(allauth_signals.password_changed)
def password_changed(sender, request, user, **kwargs):
    audit.record(events.PASSWORD_CHANGED, request=request, target=user)
    # Other browsers lose their session anyway (Django's session hash); end their records too.
    services.sign_in_sessions_end(user=user, request=request)


@receiver(allauth_signals.password_reset)
def password_reset(sender, request, user, **kwargs):
    audit.record(events.PASSWORD_RESET, request=request, target=user)
    services.sign_in_sessions_end(user=user, request=request, keep_current=False)
    services.account_unlock(user=user, request=request, reason=services.UNLOCKED_BY_PASSWORD_RESET)


@receiver(policy_published, dispatch_uid="accounts.email_clients_about_significant_change")
def email_clients_about_significant_change(*, document, **kwargs):
    if document.significant_change:
        tasks.notify_clients_of_policy_change.delay_on_commit(document.pk)
