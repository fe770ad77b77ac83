"""Personas shared by every test: a client owner and a teammate in one organisation,
an outsider who owns another client's organisation and must see nothing of the
first, and a NextSupport compliance officer (staff)."""

import pytest

from accounts.models import Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.obligations import (  # noqa: F401  (pytest hooks)
    pytest_collection_modifyitems,
    pytest_runtest_logreport,
    pytest_runtest_makereport,
    pytest_sessionfinish,
)


def login(client, user):
    """Sign `user` in on the test client as a real session would be after sign-in."""
    client.force_login(user)
    return client


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
    return UserFactory(email="officer@nextsupport.example", is_staff=True, is_superuser=True)


@pytest.fixture
def owner_client(client, owner):
    return login(client, owner)


@pytest.fixture
def outsider_client(client, outsider):
    return login(client, outsider)
