"""Demo data for `make run`: idempotent, refused outside a developer machine.

It also loads small TPS and CTPS register files (nextsupport/demo_data/), so a
marketing list can be created, imported and screened in the demo: try
nextsupport/demo_data/spring-offers.csv, where one number is on the TPS and one
on the CTPS, one e-mail address is not valid and one row has no number.

Every demo person is enrolled in two-factor authentication, so a newcomer can
sign in at once: `load_demo_data` prints each person's authenticator secret
(to add to an app) and a fresh set of backup codes. Backup codes are stored
only as hashes, so they cannot be shown again: each run replaces them.
"""

import base64
import datetime
from dataclasses import dataclass, field
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts import selectors, services
from accounts.models import BackupCodeDevice, Membership, Organisation, Role, TOTPDevice, User
from consumers import selectors as consumer_selectors
from consumers import services as consumer_services

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
# Reloaded when older than this, so a demo list's screening stays within the 28 days marketing calls need.
_REGISTER_REFRESH = datetime.timedelta(days=7)

# Shown on the console by `make run`; these accounts exist only in local databases.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (printed on the console; local databases only)


@dataclass
class DemoLogin:
    email: str
    password: str
    role: str
    note: str = ""
    authenticator_secret: str = ""
    backup_codes: list[str] = field(default_factory=list)


@transaction.atomic
def load() -> list[DemoLogin]:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is only loaded on a developer machine (DEBUG on).")
    acme, _ = Organisation.objects.get_or_create(legal_name="Acme Energy Ltd", defaults={"company_number": "09876543"})
    people = []
    for email, name, role in [
        ("owner@acme.example", "Olivia Owner", Role.OWNER),
        ("manager@acme.example", "Max Manager", Role.CAMPAIGN_MANAGER),
        ("viewer@acme.example", "Vera Viewer", Role.VIEWER),
    ]:
        user = _user(email, name)
        Membership.objects.get_or_create(user=user, organisation=acme, defaults={"role": role})
        people.append((user, f"{Role(role).label} at {acme}", ""))
    officer = _user("compliance@nextsupport.example", "Chloe Compliance", is_staff=True)
    officer.groups.add(Group.objects.get(name="Compliance"))
    people.append((officer, "Compliance officer", "admin at /admin/"))
    _establish(acme, owner=people[0][0], officer=officer)
    _screening_registers()
    return [_enrolled(user, role, note) for user, role, note in people]


def load_campaign() -> str:
    """The demo campaign (nextsupport.demo_calls), once the demo organisation exists; a line for the console."""
    from . import demo_calls

    acme = Organisation.objects.get(legal_name="Acme Energy Ltd")
    owner = User.objects.get(email__iexact="owner@acme.example")
    return demo_calls.load(acme, owner)


def _screening_registers() -> None:
    """Small TPS and CTPS files of today, unless recent ones are loaded (real files come from the TPS service)."""
    today = timezone.localdate()
    current = consumer_selectors.current_registers()
    for kind in ("tps", "ctps"):
        loaded = current.get(kind)
        if loaded is not None and today - loaded.file_date < _REGISTER_REFRESH:
            continue
        with (DEMO_DATA / f"{kind}.txt").open("rb") as stream:
            consumer_services.screening_register_load(kind=kind, file_date=today, stream=stream, imported_by="load_demo_data")


def _user(email: str, name: str, **flags) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, **flags)
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _establish(acme: Organisation, *, owner: User, officer: User) -> None:
    """The demo organisation is an approved client with its agreements accepted."""
    if not acme.lawful_basis_statement:
        services.organisation_update(
            organisation=acme,
            changes={
                "lawful_basis_statement": "Customers consent to service calls when they sign their energy contract; "
                "marketing consent is collected separately on our website with the wording and time recorded.",
                "business_address": "1 Example Street\nLeeds LS1 1AA",
            },
            section="profile",
            request=None,
        )
    outstanding = selectors.outstanding_agreements(acme)
    if outstanding:
        services.agreements_accept(organisation=acme, user=owner, documents=outstanding, request=None)
    acme.refresh_from_db()
    if acme.onboarding_status != Organisation.Onboarding.APPROVED:
        services.onboarding_decide(
            organisation=acme,
            approve=True,
            company_details_checked=True,
            dpa_accepted=True,
            lawful_basis_reviewed=True,
            reason="Demo data.",
            by=officer,
            request=None,
        )


def _enrolled(user: User, role: str, note: str) -> DemoLogin:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    backup, _ = BackupCodeDevice.objects.get_or_create(user=user, defaults={"name": "Backup codes"})
    return DemoLogin(
        email=user.email,
        password=DEMO_PASSWORD,
        role=role,
        note=note,
        authenticator_secret=base64.b32encode(device.bin_key).decode(),
        backup_codes=backup.replace_codes(),
    )
