"""Writes of accounts data. Every change to an organisation, its team, its API
keys and agreements, and to a person's sign-in security goes through one of
these functions, which also writes the audit trail.

Refusals a person can fix are raised as ValidationError with a sentence that
says what to do; views show it next to the form.
"""

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp import login as otp_login

from nextsupport import audit, ratelimit
from nextsupport.fields import BlindIndexField, digest
from nextsupport.identifiers import normalise_email
from nextsupport.models import PolicyDocument
from nextsupport.net import client_ip

from . import events, selectors, sign_in_limits, signals, tasks
from .models import (
    APIKey,
    BackupCodeDevice,
    Invitation,
    Membership,
    Notice,
    OnboardingReview,
    Organisation,
    OrganisationStatusChange,
    PolicyAcceptance,
    Role,
    SignInSession,
    TOTPDevice,
    User,
)


def _notice(kind: str, *ids) -> str:
    """A Notice for an e-mail about the change being made, keyed by that change; its task
    claims it before sending, so a redelivered task sends nothing (see accounts.models.Notice)."""
    notice, _ = Notice.objects.get_or_create(key=Notice.key_for(kind, *ids))
    return notice.key


# --- Sign-in security (P15, P25) ------------------------------------------------------


@transaction.atomic
def sign_in_failed(*, email: str, user: User | None, request, reason: str) -> list[sign_in_limits.Pause]:
    """Count a wrong password or second factor for the address and network (accounts.sign_in_limits).

    Returns the pauses this failure started. Unknown addresses are counted and
    logged the same way; only a person with an account is e-mailed about a pause.
    """
    pauses = sign_in_limits.count_failure(email, request)
    details = {"reason": reason} if user else {"reason": reason, "known_account": False}
    audit.record(events.SIGN_IN_FAILED, request=request, target=user, details=details)
    for pause in pauses:
        event = audit.record(
            events.SIGN_IN_PAUSED,
            request=request,
            target=user,
            details={"scope": pause.scope, "minutes": pause.minutes, **({} if user else {"known_account": False})},
        )
        if user is not None:
            tasks.send_lockout_notice.delay_on_commit(user.pk, _notice("account_locked", event.sequence))
    return pauses


def sign_in_throttled(*, user: User | None, request, pause: sign_in_limits.Pause) -> None:
    details = {"scope": pause.scope} if user else {"scope": pause.scope, "known_account": False}
    audit.record(events.SIGN_IN_THROTTLED, request=request, target=user, details=details)


# Why the pauses on an address were cleared. The audit trail keeps a code, never a sentence someone typed.
UNLOCKED_BY_PASSWORD_RESET = "password_reset"  # noqa: S105 (a reason code, not a password)
UNLOCKED_BY_STAFF = "staff"


def account_unlock(*, user: User, request=None, reason: str) -> None:
    """Clear the address-wide pause and counts (a password reset proves the person; staff may, after checking),
    and, for a password reset, those of the network it came from."""
    if reason not in (UNLOCKED_BY_PASSWORD_RESET, UNLOCKED_BY_STAFF):
        raise ValueError(f"Unknown unlock reason {reason!r}: use one of the UNLOCKED_BY_* codes.")
    sign_in_limits.forget(user.email, request if reason == UNLOCKED_BY_PASSWORD_RESET else None, everywhere=True)
    audit.record(events.ACCOUNT_UNLOCKED, request=request, target=user, reason=reason)


@transaction.atomic
def second_factor_verified(*, request, device) -> None:
    """The session passed its second factor: the sign-in is complete."""
    # A new session key for the newly privileged session (no fixation across the second step).
    request.session.cycle_key()
    otp_login(request, device)
    user = request.user
    sign_in_limits.forget(user.email, request)  # this network's failures were the person's own
    key = request.session.get(SignInSession.SESSION_KEY)
    if key:
        SignInSession.objects.filter(key=key).update(second_factor_at=timezone.now())
    method = "backup_code" if isinstance(device, BackupCodeDevice) else "authenticator"
    details = {"method": method}
    if method == "backup_code":
        details["backup_codes_left"] = device.remaining
    audit.record(events.SIGNED_IN, request=request, target=user, details=details)


def second_factor_failed(*, request) -> bool:
    """A wrong code at the second step: counted with the wrong passwords. True when it paused sign-in."""
    audit.record(events.SECOND_FACTOR_FAILED, request=request, target=request.user)
    return bool(sign_in_failed(email=request.user.email, user=request.user, request=request, reason="second_factor"))


def sign_in_session_start(*, user: User, request) -> SignInSession:
    record = SignInSession.objects.create(
        user=user,
        ip_address=client_ip(request) or None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] or None),
    )
    request.session[SignInSession.SESSION_KEY] = str(record.key)
    return record


def sign_in_session_close(*, key: str) -> None:
    """The browser signed out: its record ends (no audit event; sign-out is logged by the caller)."""
    SignInSession.objects.filter(key=key, ended_at__isnull=True).update(ended_at=timezone.now())


@transaction.atomic
def sign_in_sessions_end(*, user: User, request, only: SignInSession | None = None, keep_current: bool = True) -> int:
    """End one of the user's sessions, or all but the current one; those browsers are signed out."""
    sessions = SignInSession.objects.filter(user=user, ended_at__isnull=True)
    if only is not None:
        sessions = sessions.filter(pk=only.pk)
    current = request.session.get(SignInSession.SESSION_KEY) if request is not None else None
    if keep_current and current:
        sessions = sessions.exclude(key=current)
    ended = sessions.update(ended_at=timezone.now())
    if ended and request is not None:
        audit.record(events.SESSION_ENDED, request=request, target=user, details={"sessions": ended})
    return ended


# --- Two-factor devices ----------------------------------------------------------------


# The authenticator a browser session is setting up: its secret is shown to that session only.
PENDING_AUTHENTICATOR_SESSION_KEY = "accounts_pending_authenticator"
# Set-ups abandoned this long ago are deleted when the person starts another.
_ABANDONED_SETUP = datetime.timedelta(days=1)


def authenticator_pending(*, user: User, session) -> TOTPDevice:
    """The not-yet-confirmed authenticator this browser session is setting up.

    The same one on reload, so the QR code stays valid; any other session gets a
    new device with a new secret. Someone else signed in with the password must
    never be shown the secret the account holder is about to confirm.
    """
    device_id = session.get(PENDING_AUTHENTICATOR_SESSION_KEY)
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first() if device_id else None
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False, created_at__lt=timezone.now() - _ABANDONED_SETUP).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        session[PENDING_AUTHENTICATOR_SESSION_KEY] = device.pk
    return device


def authenticator_confirm(*, device: TOTPDevice, name: str, token: str, request) -> bool:
    """Confirm a new authenticator with its first code; the session counts as verified by it.

    Every other unconfirmed device of the person goes, so no secret shown to
    another browser can be confirmed later. Not atomic on purpose: a wrong code
    must still count towards django-otp's throttling.
    """
    if not device.verify_token(token):
        return False
    had_one = selectors.has_authenticator(device.user)
    device.name = name or "Authenticator app"
    device.confirmed = True
    device.save(update_fields=["name", "confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    request.session.pop(PENDING_AUTHENTICATOR_SESSION_KEY, None)
    event = audit.record(events.AUTHENTICATOR_ADDED, request=request, target=device.user, details={"device": device.pk})
    if not request.user.is_verified():
        second_factor_verified(request=request, device=device)
    if had_one:
        notice = _notice("security_authenticator_added", event.sequence)
        tasks.send_security_notice.delay_on_commit(device.user.pk, "authenticator_added", notice)
    return True


@transaction.atomic
def authenticator_remove(*, device: TOTPDevice, request) -> None:
    others = TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk)
    if not others.exists():
        raise ValidationError(
            "This is your only authenticator app. Add the new one first, then remove this one: "
            "two-factor authentication cannot be turned off."
        )
    was_current = getattr(request.user, "otp_device", None) == device
    device_id = device.pk
    device.delete()
    if was_current:
        otp_login(request, others.first())  # the person just re-authenticated; keep the session verified
    event = audit.record(events.AUTHENTICATOR_REMOVED, request=request, target=request.user, details={"device": device_id})
    notice = _notice("security_authenticator_removed", event.sequence)
    tasks.send_security_notice.delay_on_commit(request.user.pk, "authenticator_removed", notice)


@transaction.atomic
def backup_codes_replace(*, user: User, request) -> list[str]:
    """New backup codes replacing all earlier ones; returned once, stored only as hashes."""
    device, _ = BackupCodeDevice.objects.get_or_create(user=user, defaults={"name": "Backup codes"})
    codes = device.replace_codes()
    audit.record(events.BACKUP_CODES_REPLACED, request=request, target=user, details={"codes": len(codes)})
    return codes


def backup_codes_issue_if_missing(*, user: User, request) -> list[str]:
    """Codes for a person enrolling their first authenticator; [] if they already have some."""
    if BackupCodeDevice.objects.filter(user=user).exists():
        return []
    return backup_codes_replace(user=user, request=request)


# --- Organisations -----------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, legal_name: str, company_number: str, owner: User, accepted: list[PolicyDocument], request):
    """A new client organisation with `owner`, who accepts `accepted` (the current Terms and DPA) on its behalf."""
    _require_current(accepted)
    organisation = Organisation.objects.create(
        legal_name=legal_name.strip(), company_number=company_number, contract_start=timezone.localdate()
    )
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER, notify_usage_statements=True)
    User.objects.filter(pk=owner.pk).update(account_ended_on=None)
    audit.record(events.ORGANISATION_CREATED, request=request, actor=owner, target=organisation)
    agreements_accept(organisation=organisation, user=owner, documents=accepted, request=request)
    return organisation


# Changing these after approval sends the organisation back to compliance review (P19).
_REVIEWED_FIELDS = {"legal_name", "company_number", "business_address", "lawful_basis_statement"}


@transaction.atomic
def organisation_update(*, organisation: Organisation, changes: dict, section: str, request) -> list[str]:
    """Apply `changes` (field -> value); returns the names of the fields that changed."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    changed = [name for name, value in changes.items() if getattr(organisation, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(organisation, name, changes[name])
    update_fields = [*changed, *_index_fields(Organisation, changed)]
    review_again = bool(_REVIEWED_FIELDS & set(changed)) and organisation.onboarding_status == Organisation.Onboarding.APPROVED
    if review_again:
        organisation.onboarding_status = Organisation.Onboarding.PENDING
        update_fields.append("onboarding_status")
    organisation.save(update_fields=update_fields)
    audit.record(
        events.ORGANISATION_UPDATED,
        request=request,
        target=organisation,
        details={"section": section, "fields": sorted(changed), "review_required": review_again},
    )
    return changed


def _index_fields(model, changed: list[str]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source in changed]


@transaction.atomic
def membership_update_notifications(*, membership: Membership, service_updates: bool, usage_statements: bool, request):
    membership.notify_service_updates = service_updates
    membership.notify_usage_statements = usage_statements
    membership.save(update_fields=["notify_service_updates", "notify_usage_statements"])
    audit.record(
        events.NOTIFICATIONS_UPDATED,
        request=request,
        target=membership,
        details={"service_updates": service_updates, "usage_statements": usage_statements},
    )


def organisation_notify(*, organisation: Organisation, topic: str, subject: str, body: str) -> bool:
    """Queue a service update, statement or security notice for whoever should get it (P12).

    The notice is keyed by the organisation and the message itself, so sending the
    same message again (a re-run after a crash, a double click) reaches nobody
    twice; recipients are worked out when the e-mail goes, from the settings then.
    Returns False when this message was already queued for the organisation.
    """
    if topic not in selectors.Topic.ALL:  # fail here, not later in a worker
        raise ValueError(f"Unknown notification topic {topic!r}.")
    digest = hashlib.sha256(f"{topic}\n{subject}\n{body}".encode()).hexdigest()[:24]
    key = Notice.key_for("organisation_notice", organisation.pk, digest)
    notice, created = Notice.objects.get_or_create(key=key)
    if created:
        tasks.send_organisation_notice.delay_on_commit(organisation.pk, topic, subject, body, notice.key)
    return created


# --- Legal acceptance (P53) ------------------------------------------------------------------


def _require_current(documents: list[PolicyDocument]) -> None:
    current = selectors.current_agreements()
    if len(current) != len(selectors.CLIENT_AGREEMENTS):
        raise ValidationError("Our Terms of Service and Data Processing Agreement are not published; please contact us.")
    if {d.pk for d in documents} != {d.pk for d in current}:
        raise ValidationError("Our agreements were updated while you were reading them. Please review the current versions.")


@transaction.atomic
def agreements_accept(*, organisation: Organisation | None, user: User, documents: list[PolicyDocument], request):
    """Record acceptance of each document, for the organisation (or the person alone when None)."""
    ip = client_ip(request) if request is not None else ""
    accepted = []
    for document in documents:
        acceptance, created = PolicyAcceptance.objects.get_or_create(
            organisation=organisation,
            document=document,
            **({} if organisation else {"user": user}),
            defaults={"user": user, "ip_address": ip or None},
        )
        if created:
            audit.record(
                events.AGREEMENT_ACCEPTED,
                request=request,
                actor=user,
                target=acceptance,
                organisation_id=organisation.pk if organisation else None,
                details={"kind": document.kind, "version": document.version},
            )
        accepted.append(acceptance)
    return accepted


# --- Team --------------------------------------------------------------------------------


def _check_may_assign(*, by: Membership, role: str) -> None:
    if role == Role.OWNER and by.role != Role.OWNER:
        raise ValidationError("Only an owner can make someone an owner.")


# Invitation e-mails go to whatever address a member types, and anyone can sign
# up: these limits keep the team page from being a way to send spam. Generous for
# a client setting up its team (before compliance approval too), tight for one address.
INVITATIONS_PER_ORGANISATION_PER_DAY = 50
INVITATIONS_PER_ADDRESS_PER_DAY = 3
_DAY = 24 * 60 * 60


def _count_invitation_email(*, organisation: Organisation, email: str) -> None:
    """Count one invitation e-mail against both limits; refuse it past either."""
    if not ratelimit.allow_key(
        "invitation-organisation", str(organisation.pk), limit=INVITATIONS_PER_ORGANISATION_PER_DAY, window=_DAY
    ):
        raise ValidationError(
            f"{organisation} has sent {INVITATIONS_PER_ORGANISATION_PER_DAY} invitations today, the most we send "
            f"for one organisation in a day. Try again tomorrow, or write to {settings.COMPLIANCE_EMAIL} if you need more."
        )
    # A keyed digest of the address, never the address, goes into the cache key.
    if not ratelimit.allow_key(
        "invitation-address", digest("email", email).hex(), limit=INVITATIONS_PER_ADDRESS_PER_DAY, window=_DAY
    ):
        raise ValidationError("We cannot send another invitation to this address today. Please try again tomorrow.")


@transaction.atomic
def invitation_create(*, organisation: Organisation, email: str, role: str, invited_by: Membership, request) -> Invitation:
    """Invite `email`. An address with an invitation still waiting is refused: that one can be re-sent instead."""
    email = normalise_email(email)
    _check_may_assign(by=invited_by, role=role)
    if organisation.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError("That person is already a member of this organisation.")
    now = timezone.now()
    invitation = (
        organisation.invitations.select_for_update()
        .filter(email_index=digest("email", email), accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is not None and invitation.expires_at > now:
        sent = timezone.localtime(invitation.sent_at)
        raise ValidationError(
            f"{email} already has an invitation waiting, sent on {sent.day} {sent:%b at %H:%M}. "
            "Send it again from the pending invitations below, or withdraw it first to invite them with another role."
        )
    _count_invitation_email(organisation=organisation, email=email)
    if invitation is None:
        invitation = Invitation(organisation=organisation, email=email)
    else:  # an expired invitation to the same address becomes the new one
        invitation.nonce = Invitation._meta.get_field("nonce").get_default()
    invitation.role, invitation.invited_by = role, invited_by.user
    invitation.sent_at, invitation.expires_at = now, now + datetime.timedelta(days=settings.TEAM_INVITATION_VALID_DAYS)
    invitation.save()
    audit.record(events.MEMBER_INVITED, request=request, target=invitation, details={"role": role, "resent": False})
    tasks.send_invitation.delay_on_commit(invitation.pk, _notice("invitation", invitation.pk, invitation.nonce))
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: Membership, request) -> Invitation:
    """E-mail a waiting invitation again with a new link (the earlier link stops working), at most once an hour."""
    invitation = Invitation.objects.select_for_update().select_related("organisation").get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError("This invitation was accepted or withdrawn, so there is nothing to send again.")
    _check_may_assign(by=by, role=invitation.role)
    if not invitation.resendable:
        raise ValidationError(
            f"The invitation to {invitation.email} was sent at {timezone.localtime(invitation.sent_at):%H:%M}; "
            f"it can be sent again after {timezone.localtime(invitation.resendable_at):%H:%M}."
        )
    _count_invitation_email(organisation=invitation.organisation, email=invitation.email)
    now = timezone.now()
    invitation.nonce = Invitation._meta.get_field("nonce").get_default()
    invitation.invited_by, invitation.sent_at = by.user, now
    invitation.expires_at = now + datetime.timedelta(days=settings.TEAM_INVITATION_VALID_DAYS)
    invitation.save(update_fields=["nonce", "invited_by", "sent_at", "expires_at"])
    audit.record(events.MEMBER_INVITED, request=request, target=invitation, details={"role": invitation.role, "resent": True})
    tasks.send_invitation.delay_on_commit(invitation.pk, _notice("invitation", invitation.pk, invitation.nonce))
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, request) -> None:
    updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit.record(events.INVITATION_REVOKED, request=request, target=invitation)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, request) -> Membership:
    invitation = Invitation.objects.select_for_update().select_related("organisation").get(pk=invitation.pk)
    if not invitation.is_open or invitation.organisation.status != Organisation.Status.ACTIVE:
        raise ValidationError("This invitation has expired or was withdrawn. Ask the organisation to invite you again.")
    if normalise_email(invitation.email) != user.email.lower():
        raise ValidationError("This invitation was sent to a different e-mail address.")
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    User.objects.filter(pk=user.pk).update(account_ended_on=None)
    if created:
        audit.record(events.MEMBER_JOINED, request=request, target=membership, details={"role": membership.role})
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by: Membership, request) -> Membership:
    # Lock the organisation: two owners demoting each other at once must not leave none.
    Organisation.objects.select_for_update().get(pk=membership.organisation_id)
    membership = Membership.objects.get(pk=membership.pk)
    if role == membership.role:
        return membership
    if Role.OWNER in (role, membership.role) and by.role != Role.OWNER:
        raise ValidationError("Only an owner can change an owner's role or make someone an owner.")
    if membership.role == Role.OWNER and selectors.owner_count(membership.organisation) == 1:
        raise ValidationError(f"{membership.user.get_full_name()} is the only owner. Make someone else an owner first.")
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    audit.record(events.MEMBER_ROLE_CHANGED, request=request, target=membership, details={"from": previous, "to": role})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: Membership, request) -> None:
    Organisation.objects.select_for_update().get(pk=membership.organisation_id)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    leaving = membership.pk == by.pk
    if membership.role == Role.OWNER and not leaving and by.role != Role.OWNER:
        raise ValidationError("Only an owner can remove an owner.")
    if membership.role == Role.OWNER and selectors.owner_count(membership.organisation) == 1:
        raise ValidationError("The last owner cannot be removed. Make someone else an owner first, or close the account.")
    audit.record(events.MEMBER_REMOVED, request=request, target=membership, details={"role": membership.role, "left": leaving})
    membership.delete()
    _start_retention_clock(User.objects.filter(pk=membership.user_id), ended_on=timezone.localdate())


# Organisations whose contract still runs: a suspended client is still a client.
_UNDER_CONTRACT = (Organisation.Status.ACTIVE, Organisation.Status.SUSPENDED)


def _start_retention_clock(users, *, ended_on: datetime.date) -> int:
    """P29: people who no longer belong to any organisation under contract have their
    account's six years counted from `ended_on` (unless already counting)."""
    return (
        users.filter(account_ended_on__isnull=True)
        .exclude(memberships__organisation__status__in=_UNDER_CONTRACT)
        .update(account_ended_on=ended_on)
    )


# --- API keys -------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(
    *, organisation: Organisation, name: str, scope: str, expires_at: datetime.datetime | None, created_by: User, request
) -> tuple[APIKey, str]:
    """A new key: returns the row and the key itself, which is never available again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("The expiry date must be in the future.")
    prefix, raw = APIKey.generate()
    key = APIKey.objects.create(
        organisation=organisation,
        name=name.strip(),
        scope=scope,
        prefix=prefix,
        hashed_key=APIKey.hash(raw),
        created_by=created_by,
        expires_at=expires_at,
    )
    audit.record(events.API_KEY_CREATED, request=request, target=key, details={"scope": scope, "expires": expires_at is not None})
    tasks.send_api_key_notice.delay_on_commit(key.pk, _notice("api_key_created", key.pk))
    return key, raw


@transaction.atomic
def api_key_revoke(*, api_key: APIKey, by: User, request) -> bool:
    revoked = APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)
    if revoked:
        audit.record(events.API_KEY_REVOKED, request=request, target=api_key)
    return bool(revoked)


def api_key_used(*, api_key: APIKey) -> None:
    """Note the key's use; at most one write a minute per key, whatever the request rate."""
    now = timezone.now()
    APIKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - datetime.timedelta(minutes=1))
    ).update(last_used_at=now)


def api_key_refused(*, api_key: APIKey, request, reason: str) -> None:
    """A revoked or expired key was presented: worth knowing (P15)."""
    audit.record(
        events.API_KEY_REFUSED, request=request, actor_label=f"api_key:{api_key.pk}", target=api_key, details={"reason": reason}
    )


# --- Onboarding review (P19) ------------------------------------------------------------------


@transaction.atomic
def onboarding_decide(
    *,
    organisation: Organisation,
    approve: bool,
    company_details_checked: bool,
    dpa_accepted: bool,
    lawful_basis_reviewed: bool,
    reason: str,
    by: User,
    request,
) -> OnboardingReview:
    """Compliance staff approve the organisation for calls, or ask for changes (the reason is e-mailed)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.status == Organisation.Status.CLOSED:
        raise ValidationError("This organisation is closed.")
    dpa = next((d for d in selectors.current_agreements() if d.kind == PolicyDocument.Kind.DPA), None)
    dpa_on_record = dpa is not None and organisation.policy_acceptances.filter(document=dpa).exists()
    reason = reason.strip()
    if approve:
        missing = [
            label
            for done, label in [
                (company_details_checked, "company details checked"),
                (dpa_accepted, "DPA accepted"),
                (lawful_basis_reviewed, "lawful-basis statement reviewed"),
            ]
            if not done
        ]
        if missing:
            raise ValidationError(f"Approval needs every check ticked; missing: {', '.join(missing)}.")
        if not dpa_on_record:
            raise ValidationError("The organisation has not accepted the current Data Processing Agreement.")
        if not organisation.lawful_basis_statement.strip():
            raise ValidationError("The organisation has not written a lawful-basis statement yet, so there is nothing to review.")
    elif not reason:
        raise ValidationError("Say what the organisation must change: the reason is sent to them.")
    review = OnboardingReview.objects.create(
        organisation=organisation,
        decision=OnboardingReview.Decision.APPROVED if approve else OnboardingReview.Decision.REJECTED,
        company_details_checked=company_details_checked,
        dpa_accepted=dpa_accepted,
        lawful_basis_reviewed=lawful_basis_reviewed,
        dpa_version=dpa.version if dpa_on_record else None,
        reason=reason or None,
        decided_by=by,
    )
    organisation.onboarding_status = Organisation.Onboarding.APPROVED if approve else Organisation.Onboarding.REJECTED
    organisation.save(update_fields=["onboarding_status"])
    audit.record(
        events.ONBOARDING_APPROVED if approve else events.ONBOARDING_REJECTED,
        request=request,
        actor=by,
        target=organisation,
        details={"review": review.pk},  # the reason stays on the review (encrypted): it may name people
    )
    tasks.send_onboarding_decision.delay_on_commit(review.pk, _notice("onboarding_decision", review.pk))
    return review


# --- Closing, suspending and reopening an account (P29) ----------------------------------------


def _status_change(*, organisation: Organisation, to: str, by: User | None, reason: str) -> OrganisationStatusChange:
    """Record the change on its own row: the reason is free text that may name people,
    so it is kept there (encrypted, erasable) and audit events only point at the row."""
    change = OrganisationStatusChange.objects.create(
        organisation=organisation,
        previous_status=organisation.status,
        status=to,
        changed_by=by,
        reason=reason.strip() or None,
    )
    organisation.status = to
    return change


@transaction.atomic
def organisation_close(*, organisation: Organisation, by: User, reason: str, request) -> Organisation:
    """Close the account: access stops, keys and invitations die, the contract ends today (P29's clock starts)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.status == Organisation.Status.CLOSED:
        raise ValidationError("This organisation is already closed.")
    now, today = timezone.now(), timezone.localdate()
    change = _status_change(organisation=organisation, to=Organisation.Status.CLOSED, by=by, reason=reason)
    organisation.closed_at, organisation.closed_by = now, by
    if organisation.contract_end is None or organisation.contract_end > today:
        organisation.contract_end = today
    organisation.save(update_fields=["status", "closed_at", "closed_by", "contract_end"])
    keys = APIKey.objects.filter(organisation=organisation, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by)
    invitations = Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    # People with no other organisation under contract: their own account's retention clock starts too.
    _start_retention_clock(User.objects.filter(memberships__organisation=organisation), ended_on=organisation.contract_end)
    audit.record(
        events.ORGANISATION_CLOSED,
        request=request,
        actor=by,
        target=organisation,
        details={
            "status_change": change.pk,
            "api_keys_revoked": keys,
            "invitations_revoked": invitations,
            "contract_end": organisation.contract_end,
        },
    )
    signals.organisation_closed.send(sender=Organisation, organisation=organisation, closed_by=by)
    tasks.send_closure_notice.delay_on_commit(organisation.pk, _notice("organisation_closed", change.pk))
    return organisation


@transaction.atomic
def organisation_suspend(*, organisation: Organisation, by: User | None, reason: str, request) -> Organisation:
    """Stop access while staff look into something; the contract (and its dates) run on.

    Members, API keys and invitations are refused while the organisation is not
    active, and come back unchanged when it is reopened.
    """
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.status != Organisation.Status.ACTIVE:
        raise ValidationError(
            f"{organisation} is {organisation.get_status_display().lower()}: only an active organisation can be suspended."
        )
    change = _status_change(organisation=organisation, to=Organisation.Status.SUSPENDED, by=by, reason=reason)
    organisation.save(update_fields=["status"])
    signals.organisation_suspended.send(sender=Organisation, organisation=organisation, suspended_by=by)
    audit.record(
        events.ORGANISATION_SUSPENDED, request=request, actor=by, target=organisation, details={"status_change": change.pk}
    )
    return organisation


@transaction.atomic
def organisation_reopen(*, organisation: Organisation, by: User | None, reason: str, request) -> Organisation:
    """Make a suspended or closed organisation active again.

    Reopening a closed account resumes its contract: the end date the closure
    set is cleared (staff enter a new one if the contract is fixed-term), and so
    is the retention clock of every member, who belongs to an organisation under
    contract again. API keys and invitations revoked by the closure stay revoked.
    """
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    was = organisation.status
    if was == Organisation.Status.ACTIVE:
        raise ValidationError(f"{organisation} is not closed or suspended.")
    change = _status_change(organisation=organisation, to=Organisation.Status.ACTIVE, by=by, reason=reason)
    if was == Organisation.Status.CLOSED:
        organisation.contract_end = organisation.closed_at = organisation.closed_by = None
        User.objects.filter(memberships__organisation=organisation).update(account_ended_on=None)
    organisation.save(update_fields=["status", "contract_end", "closed_at", "closed_by"])
    audit.record(
        events.ORGANISATION_REOPENED,
        request=request,
        actor=by,
        target=organisation,
        details={"status_change": change.pk, "was": was},
    )
    return organisation


# --- Export --------------------------------------------------------------------------------------


def account_export(*, organisation: Organisation, request) -> dict:
    """The organisation's account data for download; the export itself is an audit event."""
    data = selectors.account_export(organisation)
    audit.record(
        audit.PERSONAL_DATA_EXPORTED,
        request=request,
        target=organisation,
        details={"scope": "account", "members": len(data["members"]), "invitations": len(data["invitations"])},
    )
    return data
