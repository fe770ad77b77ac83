"""Reads of accounts data, and the one place client queries are scoped.

Every query a client can trigger goes through `for_member`: it keeps only the
rows of organisations the user is an active member of. An object outside that
scope simply does not exist for the user (views answer 404, never 403).
"""

import datetime
import hmac
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from nextsupport.exports import json_bytes, records_csv, zip_bytes
from nextsupport.fields import digest
from nextsupport.models import PolicyDocument
from nextsupport.selectors import current_policy

from .models import (
    APIKey,
    BackupCodeDevice,
    Invitation,
    Membership,
    OnboardingReview,
    Organisation,
    PolicyAcceptance,
    Role,
    SignInSession,
    TOTPDevice,
    User,
)

# The documents a client organisation must have accepted, in their current version.
CLIENT_AGREEMENTS = (PolicyDocument.Kind.TERMS, PolicyDocument.Kind.DPA)


def organisations_for(user) -> QuerySet[Organisation]:
    if not user.is_authenticated or not isinstance(user, User):
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user, status=Organisation.Status.ACTIVE)


def membership_for(user, organisation_id) -> Membership | None:
    if not user.is_authenticated or not isinstance(user, User):
        return None
    try:
        organisation_id = int(organisation_id)
    except (TypeError, ValueError):
        return None
    return (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation_id=organisation_id, organisation__status=Organisation.Status.ACTIVE)
        .first()
    )


def for_member(queryset: QuerySet, user, *, via: str = "organisation") -> QuerySet:
    """`queryset` restricted to rows whose organisation (at path `via`) the user belongs to."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{f"{via}__in": organisations_for(user)})


def memberships_of(user) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation__status=Organisation.Status.ACTIVE)
        .order_by("organisation__legal_name")
    )


# --- Team --------------------------------------------------------------------------


def team_of(organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__email")


def owner_count(organisation: Organisation) -> int:
    return organisation.memberships.filter(role=Role.OWNER).count()


def open_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    return organisation.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def open_invitations_for_email(email: str) -> QuerySet[Invitation]:
    """Invitations addressed to `email` that can still be accepted (any organisation)."""
    return Invitation.objects.select_related("organisation").filter(
        email_index=digest("email", email),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        organisation__status=Organisation.Status.ACTIVE,
    )


# --- Legal acceptance (P53) -----------------------------------------------------------


def current_agreements() -> list[PolicyDocument]:
    return [doc for doc in (current_policy(kind) for kind in CLIENT_AGREEMENTS) if doc is not None]


def outstanding_agreements(organisation: Organisation) -> list[PolicyDocument]:
    """Current Terms/DPA versions the organisation has not accepted yet."""
    current = current_agreements()
    accepted = set(
        PolicyAcceptance.objects.filter(organisation=organisation, document__in=current).values_list("document_id", flat=True)
    )
    return [doc for doc in current if doc.pk not in accepted]


def acceptances_of(organisation: Organisation) -> QuerySet[PolicyAcceptance]:
    return organisation.policy_acceptances.select_related("document", "user")


# --- Onboarding (P19) and the right to place calls -----------------------------------------


def launch_blockers(organisation: Organisation) -> list[str]:
    """Why the organisation may not launch calls now, in words for its people; [] when it may."""
    blockers = []
    if organisation.status != Organisation.Status.ACTIVE:
        blockers.append(f"The account is {organisation.get_status_display().lower()}.")
    if organisation.onboarding_status != Organisation.Onboarding.APPROVED:
        blockers.append("Our compliance team has not approved the account yet.")
    for document in outstanding_agreements(organisation):
        blockers.append(f"The current {document.get_kind_display()} (version {document.version}) has not been accepted.")
    return blockers


def organisation_may_launch_calls(organisation: Organisation) -> bool:
    """The accounts part of the pre-call gate: active, approved by compliance, agreements current."""
    return not launch_blockers(organisation)


def latest_review(organisation: Organisation) -> OnboardingReview | None:
    return organisation.onboarding_reviews.select_related("decided_by").first()


# --- Notifications (P12) ----------------------------------------------------------------


class Topic:
    SERVICE_UPDATES = "service_updates"
    USAGE_STATEMENTS = "usage_statements"
    SECURITY = "security"
    ALL = (SERVICE_UPDATES, USAGE_STATEMENTS, SECURITY)


class Recipient(NamedTuple):
    tag: str  # who, in a Notice's record of whom it reached: "user:<id>" or "billing"; never the address
    email: str


def notification_recipients(organisation: Organisation, topic: str) -> list[Recipient]:
    """Who should receive `topic` for the organisation, without duplicate addresses.

    Members choose service updates and statements; the billing contact always
    receives statements; security notices go to every owner and admin.
    """
    members = organisation.memberships.select_related("user").filter(user__is_active=True)
    if topic == Topic.SERVICE_UPDATES:
        members = members.filter(notify_service_updates=True)
    elif topic == Topic.USAGE_STATEMENTS:
        members = members.filter(notify_usage_statements=True)
    elif topic == Topic.SECURITY:
        members = members.filter(role__in=[Role.OWNER, Role.ADMIN])
    else:
        raise ValueError(f"Unknown notification topic {topic!r}.")
    recipients = [Recipient(f"user:{m.user_id}", m.user.email) for m in members.order_by("user__email")]
    if topic == Topic.USAGE_STATEMENTS and organisation.billing_email:
        recipients.append(Recipient("billing", organisation.billing_email))
    seen, unique = set(), []
    for recipient in recipients:
        if recipient.email.lower() not in seen:
            seen.add(recipient.email.lower())
            unique.append(recipient)
    return unique


# --- API keys -------------------------------------------------------------------------


def api_keys_of(organisation: Organisation) -> QuerySet[APIKey]:
    return organisation.api_keys.select_related("created_by", "revoked_by")


def active_api_keys(organisation: Organisation) -> QuerySet[APIKey]:
    """Keys that work now: not revoked and not expired (APIKey.state == "active", as a query)."""
    return organisation.api_keys.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def api_key_by_raw(raw_key: str) -> APIKey | None:
    """The key row matching a presented key, or None. Constant-time on the secret part."""
    prefix, _, secret = raw_key.partition(".")
    if not prefix.startswith(APIKey.PREFIX) or not secret:
        return None
    key = APIKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.hashed_key, APIKey.hash(raw_key)):
        return None
    return key


# --- Security page -------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityOverview:
    authenticators: list[TOTPDevice]
    backup_codes: BackupCodeDevice | None
    sessions: list[SignInSession]


def security_overview(user: User) -> SecurityOverview:
    return SecurityOverview(
        authenticators=list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at")),
        backup_codes=BackupCodeDevice.objects.filter(user=user, confirmed=True).first(),
        sessions=list(active_sessions(user)),
    )


def active_sessions(user: User) -> QuerySet[SignInSession]:
    # Sessions idle longer than the session cookie's life are over anyway.
    horizon = timezone.now() - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return SignInSession.objects.filter(user=user, ended_at__isnull=True, last_seen_at__gte=horizon)


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- Export of the organisation's own account data ---------------------------------------


def account_export(organisation: Organisation) -> dict:
    """The organisation's account data as JSON-ready structures (P39 for client accounts)."""
    members = list(team_of(organisation))
    return {
        "format": "nextsupport.account-export/1",
        "exported_at": timezone.now().isoformat(),
        "organisation": {
            "id": organisation.pk,
            "legal_name": organisation.legal_name,
            "trading_name": organisation.trading_name,
            "company_number": organisation.company_number,
            "status": organisation.status,
            "contract_start": _date(organisation.contract_start),
            "contract_end": _date(organisation.contract_end),
            "created_at": organisation.created_at.isoformat(),
            "business_address": organisation.business_address,
            "lawful_basis_statement": organisation.lawful_basis_statement,
            "onboarding_status": organisation.onboarding_status,
        },
        "billing": {
            "contact_name": organisation.billing_contact_name,
            "email": organisation.billing_email,
            "phone": organisation.billing_phone,
            "address": organisation.billing_address,
            "vat_number": organisation.vat_number,
            "card_details": "never stored by NextSupport",
        },
        "service_preferences": {
            "calling_hours_start": organisation.calling_hours_start.isoformat(timespec="minutes"),
            "calling_hours_end": organisation.calling_hours_end.isoformat(timespec="minutes"),
            "call_on_saturdays": organisation.call_on_saturdays,
            "call_on_sundays": organisation.call_on_sundays,
            "record_calls_by_default": organisation.record_calls_by_default,
            "statement_frequency": organisation.statement_frequency,
        },
        "members": [
            {
                "name": m.user.full_name,
                "email": m.user.email,
                "role": m.role,
                "joined_at": m.created_at.isoformat(),
                "notify_service_updates": m.notify_service_updates,
                "notify_usage_statements": m.notify_usage_statements,
            }
            for m in members
        ],
        "invitations": [
            {
                "email": i.email,
                "role": i.role,
                "state": i.state,
                "created_at": i.created_at.isoformat(),
                "expires_at": i.expires_at.isoformat(),
            }
            for i in organisation.invitations.order_by("-created_at")
        ],
        "api_keys": [
            {
                "name": k.name,
                "prefix": k.prefix,
                "scope": k.scope,
                "state": k.state,
                "created_at": k.created_at.isoformat(),
                "expires_at": _datetime(k.expires_at),
                "last_used_at": _datetime(k.last_used_at),
                "revoked_at": _datetime(k.revoked_at),
            }
            for k in api_keys_of(organisation)
        ],
        "agreements": [
            {
                "document": a.document.get_kind_display(),
                "version": a.document.version,
                "accepted_by": a.user.email,
                "accepted_at": a.accepted_at.isoformat(),
            }
            for a in acceptances_of(organisation)
        ],
        "onboarding_reviews": [
            {"decision": r.decision, "reason": r.reason, "decided_at": r.decided_at.isoformat()}
            for r in organisation.onboarding_reviews.all()
        ],
    }


# The export's two formats (P39), written by the same writers as a data-subject request's package.
EXPORT_FORMATS = {"json": "JSON file", "csv": "CSV files (one per section, in a ZIP)"}


def account_export_file(data: dict, *, format: str) -> tuple[bytes, str, str]:
    """The export as (contents, content type, file extension): one JSON file, or a ZIP of one CSV per section."""
    if format == "csv":
        files = {
            f"{section}.csv": records_csv(value if isinstance(value, list) else [value])
            for section, value in data.items()
            if isinstance(value, list | dict)
        }
        return zip_bytes(files), "application/zip", "zip"
    return json_bytes(data), "application/json; charset=utf-8", "json"


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _datetime(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def active_client_users():
    """Active users who are members of at least one active client organisation."""
    return User.objects.filter(is_active=True, memberships__organisation__status=Organisation.Status.ACTIVE).distinct()
