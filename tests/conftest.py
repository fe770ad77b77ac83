"""Personas shared by every test: a client owner and a teammate in one organisation,
an outsider who owns another client's organisation and must see nothing of the
first, and a NextSupport compliance officer (staff in the "Compliance" group).

The personas' organisations are established clients: approved by compliance and
with the current Terms and DPA accepted (see tests.factories.OrganisationFactory).
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.cache import cache
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Role, TOTPDevice
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.obligations import (  # noqa: F401  (pytest hooks)
    pytest_collection_modifyitems,
    pytest_runtest_logreport,
    pytest_runtest_makereport,
    pytest_sessionfinish,
)


def login(client, user):
    """Sign `user` in on the test client as a real session would be after sign-in,
    including the second factor: a confirmed authenticator is created if the user
    has none, and the session is marked verified by it the way django-otp does."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits live in the cache: one test's failed sign-ins must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organisation(db):
    return OrganisationFactory(legal_name="Acme Energy Ltd")


@pytest.fixture
def owner(organisation):
    return MembershipFactory(organisation=organisation, role=Role.OWNER, user__email="owner@acme.example").user


@pytest.fixture
def teammate(organisation):
    return MembershipFactory(organisation=organisation, role=Role.VIEWER, user__email="viewer@acme.example").user


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(legal_name="Rival Telecom plc")


@pytest.fixture
def outsider(other_organisation):
    return MembershipFactory(organisation=other_organisation, role=Role.OWNER, user__email="owner@rival.example").user


@pytest.fixture
def compliance_officer(db):
    officer = UserFactory(email="officer@nextsupport.example", is_staff=True, is_superuser=False)
    officer.groups.add(Group.objects.get(name="Compliance"))  # created by accounts' migrations
    return officer


@pytest.fixture
def owner_client(client, owner):
    return login(client, owner)


@pytest.fixture
def outsider_client(client, outsider):
    return login(client, outsider)


def _run_seed(module: str, function: str):
    getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def site_content(db):
    """The policy documents and cookie register as the migrations seed them.

    Transactional tests (live_server) empty every table afterwards, so a browser
    test cannot count on migration data still being there: it seeds it again.
    """
    _run_seed("nextsupport.migrations.0004_publish_privacy_policy", "publish")
    _run_seed("nextsupport.migrations.0006_publish_site_documents", "publish")
    _run_seed("accounts.migrations.0003_publish_terms_and_dpa", "publish")
    _run_seed("cookies.migrations.0002_seed_register", "seed")
    _run_seed("compliance.migrations.0008_records_seed", "seed")  # sub-processors page v2 and its register
