"""One client can never read or change another client's data, through any portal page
or API route: the walk covers every route of the URL resolver, including the ones
other apps add later (see tests/accounts/isolation.py)."""

import inspect

import pytest
from django.test import Client
from factory.django import DjangoModelFactory

from accounts.models import BackupCodeDevice, Organisation
from tests import factories
from tests.accounts import isolation
from tests.accounts.helpers import approve
from tests.conftest import login
from tests.factories import APIKeyFactory, InvitationFactory


@pytest.fixture
def victim(organisation, owner, teammate, other_organisation, outsider):
    """The owner's organisation with data of every kind, its ids in ranges of their own."""
    isolation.bump_sequences()
    organisation.billing_email = "billing@acme.example"
    organisation.save()
    invitation = InvitationFactory(organisation=organisation, email="new.starter@acme.example")
    key = APIKeyFactory(organisation=organisation)
    login(Client(), owner)  # a sign-in session and an authenticator
    BackupCodeDevice.objects.create(user=owner, name="Backup codes").replace_codes()
    approve(organisation, by=factories.UserFactory(is_staff=True))
    # Whatever other apps add: one row of each of their organisation-owned factories.
    for factory in _organisation_factories():
        factory(organisation=organisation)
    victim = isolation.Victim(
        organisation=organisation,
        markers=["Acme Energy", owner.email, teammate.email, "new.starter@acme.example", key.prefix, "billing@acme.example"],
        tokens=[invitation.token()],
    )
    isolation.collect_ids(victim, other_organisation)
    return victim


def _organisation_factories():
    for _, factory in inspect.getmembers(factories, inspect.isclass):
        if issubclass(factory, DjangoModelFactory) and factory._meta.model is not None:
            fields = {f.name: f for f in factory._meta.model._meta.concrete_fields}
            if "organisation" in fields and fields["organisation"].related_model is Organisation:
                yield factory


@pytest.fixture
def outsider_clients(outsider, other_organisation):
    session_client = login(Client(), outsider)
    key = APIKeyFactory(organisation=other_organisation)
    return session_client, Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")


@pytest.mark.obligation("P02", "P25")
def test_the_outsider_cannot_read_or_change_anything_of_another_organisation(victim, outsider_clients, other_organisation):
    before = isolation.snapshot(victim.organisation)

    leaks = isolation.walk(*outsider_clients, victim, other_organisation.pk)

    assert not leaks, "Routes that do not refuse the outsider:\n" + "\n".join(map(str, leaks))
    assert isolation.snapshot(victim.organisation) == before


def test_the_walk_reaches_the_portal_and_api_routes_with_object_ids(db):
    routes = isolation.client_routes()

    assert "app/o/<int:org_id>/account/team/<int:membership_id>/remove/" in routes
    assert "api/v1/orgs/<int:org_id>/members/" in routes
    assert "app/invitations/<str:token>/" in routes
    # A regex route could not be filled in by the walk, so none may appear outside the skipped apps.
    assert isolation.regex_routes_outside_skipped() == []


def test_the_walk_catches_a_route_that_leaks(victim, outsider_clients, other_organisation, settings):
    settings.ROOT_URLCONF = "tests.accounts.leaky_urls"
    before = isolation.snapshot(victim.organisation)

    leaks = [
        leak
        for leak in isolation.walk(*outsider_clients, victim, other_organisation.pk)
        if "/leaky/" in leak.url or "/demote/" in leak.url
    ]

    assert any(leak.url == f"/app/o/{victim.organisation.pk}/leaky/" and leak.status == 200 for leak in leaks)
    # The demote route answers alike for every id, so its status proves nothing;
    # the change it makes to the victim's row is what gives it away.
    assert isolation.snapshot(victim.organisation) != before
