"""Demo data for `make run`: idempotent, refused outside a developer machine."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.models import Membership, Organisation, Role, User

# Shown on the console by `make run`; these accounts exist only in local databases.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (printed on the console; local databases only)


@dataclass
class DemoLogin:
    email: str
    password: str
    role: str
    note: str = ""


@transaction.atomic
def load() -> list[DemoLogin]:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is only loaded on a developer machine (DEBUG on).")
    acme, _ = Organisation.objects.get_or_create(legal_name="Acme Energy Ltd", defaults={"company_number": "09876543"})
    logins = []
    for email, name, role in [
        ("owner@acme.example", "Olivia Owner", Role.OWNER),
        ("manager@acme.example", "Max Manager", Role.CAMPAIGN_MANAGER),
        ("viewer@acme.example", "Vera Viewer", Role.VIEWER),
    ]:
        user = _user(email, name)
        Membership.objects.get_or_create(user=user, organisation=acme, defaults={"role": role})
        logins.append(DemoLogin(email, DEMO_PASSWORD, f"{Role(role).label} at {acme}"))
    officer = _user("compliance@nextsupport.example", "Chloe Compliance", is_staff=True, is_superuser=True)
    logins.append(DemoLogin(officer.email, DEMO_PASSWORD, "Compliance officer (admin at /admin/)"))
    return logins


def _user(email: str, name: str, **flags) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, **flags)
    return user
