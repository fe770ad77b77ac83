"""One client can never read or change another client's data, through any portal page
or API route: the walk covers every route of the URL resolver, including the ones
other apps add later (see tests/accounts/isolation.py)."""

import inspect

import pytest
from django.test import Client
from django.urls import reverse
from factory.django import DjangoModelFactory

from accounts.models import APIKey, BackupCodeDevice, Organisation
from consumers import services
from consumers.models import Consumer
from tests import factories
from tests.accounts import isolation
from tests.accounts.helpers import approve
from tests.conftest import login
from tests.consumers.conftest import csv_bytes, make_list, run_import
from tests.factories import APIKeyFactory, InvitationFactory, OrganisationFactory


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

    # The detector is what is tested here: only the two broken routes need walking (the full walk is above).
    leaks = isolation.walk(
        *outsider_clients, victim, other_organisation.pk, only=lambda route: "/leaky/" in route or "/demote/" in route
    )

    assert any(leak.url == f"/app/o/{victim.organisation.pk}/leaky/" and leak.status == 200 for leak in leaks)
    # The demote route answers alike for every id, so its status proves nothing;
    # the change it makes to the victim's row is what gives it away.
    assert isolation.snapshot(victim.organisation) != before


@pytest.mark.obligation("P25")
def test_a_viewer_gets_no_unmasked_consumer_data_from_any_page_or_endpoint(organisation, owner, teammate):
    # Given consumers with every kind of personal data, an error report with a value from the file,
    # and a viewer (the teammate) with a read-only key beside them
    contact_list = make_list(organisation, owner)
    rows = [
        ["Ada Lovelace", "07412 345678", "ada.lovelace@example.org", "10/12/1985", "LS1 4AP"],
        ["Bob Brown", "020 7946 0001", "", "", ""],
        ["Carol Bad", "0799 SECRET", "", "", ""],
    ]
    run_import(contact_list, owner, csv_bytes(["Name", "Phone", "Email", "DOB", "Postcode"], *rows))
    ada = Consumer.objects.get(phone_index__matches="07412 345678")
    services.consumer_restrict(consumer=ada, by=owner, reason="Disputes the debt")
    viewer = login(Client(), teammate)
    read_only = APIKeyFactory(organisation=organisation, scope=APIKey.Scope.READ_ONLY)
    key_client = Client(HTTP_AUTHORIZATION=f"Api-Key {read_only.raw_key}")
    markers = ["Lovelace", "Bob Brown", "+447412345678", "07412 345678", "07412345678", "ada.lovelace@", "LS1 4AP"]
    markers += ["1985-12-10", "10 Dec 1985", "0799 SECRET", "Disputes the debt", "7946 0001"]
    seen = isolation.Victim(organisation=organisation, markers=markers)
    isolation.collect_ids(seen, OrganisationFactory())

    # When the viewer opens every page and endpoint, and searches for a consumer by number
    leaks = isolation.read_walk([viewer, key_client], seen, organisation.pk)
    found = [
        viewer.post(reverse("consumers:search", args=[organisation.pk]), {"phone": "07412 345678"}),
        key_client.post(
            f"/api/v1/orgs/{organisation.pk}/consumers/search/", {"phone": "07412 345678"}, content_type="application/json"
        ),
    ]

    # Then nothing shows a name, full number, e-mail, date of birth, postcode or note about a person
    assert not leaks, "Routes that show a viewer personal data:\n" + "\n".join(map(str, leaks))
    for response in found:
        assert response.status_code == 200 and "••• ••• 678" in response.content.decode()
        # The search form shows back the number the viewer typed; nothing else of the person.
        assert not [m for m in markers if m != "07412 345678" and m in response.content.decode()]
