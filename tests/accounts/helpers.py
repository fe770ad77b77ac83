"""Small helpers for the accounts tests."""

import time

from django_otp.oath import TOTP

from accounts import services
from accounts.models import TOTPDevice


def current_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now for `device` (as the browser test computes it)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {current_code(device, step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def actions(since: int = 0) -> list[str]:
    from nextsupport.models import AuditEvent

    return list(AuditEvent.objects.filter(sequence__gt=since).order_by("sequence").values_list("action", flat=True))


def last_sequence() -> int:
    from nextsupport.models import AuditEvent

    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def approve(organisation, *, by):
    """Compliance approves the organisation with every check of the review ticked."""
    return services.onboarding_decide(
        organisation=organisation,
        approve=True,
        company_details_checked=True,
        dpa_accepted=True,
        lawful_basis_reviewed=True,
        reason="",
        by=by,
        request=None,
    )


def request_changes(organisation, *, by, reason: str):
    """Compliance sends the organisation back with `reason`, no check ticked."""
    return services.onboarding_decide(
        organisation=organisation,
        approve=False,
        company_details_checked=False,
        dpa_accepted=False,
        lawful_basis_reviewed=False,
        reason=reason,
        by=by,
        request=None,
    )
