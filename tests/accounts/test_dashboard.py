"""The dashboard shows the organisation's work, and every page keeps the one navigation."""

from django.test import override_settings
from django.urls import reverse

from consumers import services
from tests.consumers.conftest import csv_bytes, make_list, run_import, upload


def test_the_dashboard_shows_the_lists_the_imports_in_progress_and_what_happened(owner_client, organisation, owner):
    # Given a list with an import done, and an upload waiting for its columns
    contact_list = make_list(organisation, owner, name="Boiler customers")
    run_import(contact_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    services.import_job_create(
        contact_list=contact_list, upload=upload(csv_bytes(["Phone"], ["020 7946 0001"]), "more.csv"), uploaded_by=owner
    )

    # When the owner opens the dashboard
    html = owner_client.get(reverse("accounts:dashboard", args=[organisation.pk])).content.decode()

    # Then it shows the list, the waiting upload and the recent activity in words
    assert "Boiler customers" in html
    assert "Imports in progress" in html and "more.csv" in html
    assert "finished importing a file" in html and "uploaded a file" in html


def test_the_security_page_keeps_the_portal_navigation(owner_client, organisation):
    owner_client.get(reverse("accounts:dashboard", args=[organisation.pk]))

    html = owner_client.get(reverse("accounts:security")).content.decode()

    assert reverse("consumers:lists", args=[organisation.pk]) in html
    assert reverse("accounts:dashboard", args=[organisation.pk]) in html


@override_settings(DEBUG=False)
def test_an_error_page_keeps_the_portal_navigation_for_a_signed_in_client(owner_client, organisation):
    response = owner_client.get("/app/no-such-page/")

    assert response.status_code == 404
    assert reverse("consumers:lists", args=[organisation.pk]) in response.content.decode()


def test_a_visitor_gets_the_public_navigation(client, db):
    html = client.get("/").content.decode()

    assert "Sign in" in html and "Contact lists" not in html
