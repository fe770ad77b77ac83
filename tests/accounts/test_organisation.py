"""A client organisation's account: sign-up, profile, billing, preferences, notifications, export."""

import json
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts import selectors, services
from accounts.models import Membership, Organisation, PolicyAcceptance, Role, User
from nextsupport import privacy
from tests.accounts.helpers import actions, last_sequence
from tests.conftest import login
from tests.factories import MembershipFactory

SIGNUP = {
    "full_name": "Priya Shah",
    "organisation_name": "Shah Plumbing Ltd",
    "company_number": "1234567",
    "email": "Priya@Shah-Plumbing.example",
    "password1": "a-long-and-unusual-passphrase-81",
    "password2": "a-long-and-unusual-passphrase-81",
    "accept_terms": "on",
    "accept_dpa": "on",
    "version_terms": "1",
    "version_dpa": "1",
}


@pytest.mark.obligation("P53")
def test_signing_up_creates_the_organisation_and_records_who_accepted_which_terms_from_where(
    db, django_capture_on_commit_callbacks
):
    client = Client(REMOTE_ADDR="203.0.113.7")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", SIGNUP)

    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="priya@shah-plumbing.example")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    organisation = membership.organisation
    assert organisation.legal_name == "Shah Plumbing Ltd" and organisation.company_number == "01234567"
    assert organisation.onboarding_status == Organisation.Onboarding.PENDING
    accepted = {(a.document.kind, a.document.version, a.user_id, a.ip_address) for a in organisation.policy_acceptances.all()}
    assert accepted == {("terms", 1, user.pk, "203.0.113.7"), ("dpa", 1, user.pk, "203.0.113.7")}
    assert "confirm-email" in mail.outbox[-1].body


def test_signing_up_needs_both_agreements_and_a_strong_password(db):
    response = Client().post(
        "/accounts/signup/", {**SIGNUP, "accept_dpa": "", "password1": "password123", "password2": "password123"}
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "You need to accept the Data Processing Agreement" in html
    assert "This password is too common" in html or "too short" in html
    assert not User.objects.exists()


def test_terms_changed_while_signing_up_must_be_reread(db):
    response = Client().post("/accounts/signup/", {**SIGNUP, "version_terms": "0"})

    assert "updated while you were reading" in response.content.decode()
    assert not Organisation.objects.filter(legal_name="Shah Plumbing Ltd").exists()


@pytest.mark.obligation("P02", "P24", "P26")
def test_an_owner_edits_the_organisation_profile_and_the_address_is_stored_encrypted(owner_client, organisation):
    since = last_sequence()

    response = owner_client.post(
        f"/app/o/{organisation.pk}/account/",
        {
            "legal_name": "Acme Energy Ltd",
            "trading_name": "Acme Energy",
            "company_number": "sc123456",
            "business_address": "1 Example Street\nLeeds LS1 1AA",
            "lawful_basis_statement": "Customers consent on our website; we keep the wording and time.",
        },
    )

    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.company_number == "SC123456" and organisation.trading_name == "Acme Energy"
    with connection.cursor() as cursor:
        cursor.execute("SELECT business_address FROM accounts_organisation WHERE id = %s", [organisation.pk])
        assert b"Leeds" not in bytes(cursor.fetchone()[0])
    assert actions(since) == ["organisation.updated"]


@pytest.mark.obligation("P19")
def test_changing_reviewed_company_details_sends_the_account_back_to_review(owner_client, organisation):
    assert organisation.onboarding_status == Organisation.Onboarding.APPROVED

    owner_client.post(
        f"/app/o/{organisation.pk}/account/",
        {
            "legal_name": "Acme Energy Group Ltd",
            "company_number": organisation.company_number,
            "lawful_basis_statement": "Consent.",
        },
    )

    organisation.refresh_from_db()
    assert organisation.onboarding_status == Organisation.Onboarding.PENDING
    assert not selectors.organisation_may_launch_calls(organisation)


@pytest.mark.obligation("P02", "P25")
def test_viewers_see_the_profile_but_cannot_change_it(client, organisation, teammate):
    login(client, teammate)

    page = client.get(f"/app/o/{organisation.pk}/account/")
    change = client.post(f"/app/o/{organisation.pk}/account/", {"legal_name": "Hijacked Ltd"})

    assert page.status_code == 200 and "Only owners and admins" in page.content.decode()
    assert change.status_code == 403
    assert Organisation.objects.get(pk=organisation.pk).legal_name == "Acme Energy Ltd"


@pytest.mark.obligation("P03")
def test_billing_details_never_take_a_card_number(owner_client, organisation):
    response = owner_client.post(
        f"/app/o/{organisation.pk}/account/billing/",
        {"billing_contact_name": "Accounts 4242 4242 4242 4242", "billing_email": "accounts@acme.example"},
    )

    assert response.status_code == 200
    assert "We never store card details" in response.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT billing_contact_name FROM accounts_organisation WHERE id = %s", [organisation.pk])
        assert cursor.fetchone()[0] is None


@pytest.mark.obligation("P02", "P03")
def test_billing_details_are_saved_normalised(owner_client, organisation):
    response = owner_client.post(
        f"/app/o/{organisation.pk}/account/billing/",
        {
            "billing_contact_name": "Alex Accounts",
            "billing_email": "accounts@acme.example",
            "billing_phone": "0113 496 0123",
            "billing_address": "",
            "vat_number": "123 4567 89",
        },
    )

    assert response.status_code == 302
    organisation = Organisation.objects.get(pk=organisation.pk)
    assert organisation.billing_phone == "+441134960123"
    assert organisation.vat_number == "GB123456789"
    assert organisation.billing_address is None
    assert Organisation.objects.filter(billing_email_index__matches="ACCOUNTS@acme.example").exists()


def test_a_bad_phone_number_is_explained_next_to_its_field(owner_client, organisation):
    response = owner_client.post(f"/app/o/{organisation.pk}/account/billing/", {"billing_phone": "12345"})

    assert re.search(r'id="id_billing_phone_error"[^>]*>.*Not a', response.content.decode(), re.S)


@pytest.mark.obligation("P03")
def test_service_preferences_are_editable_within_lawful_calling_hours(owner_client, organisation):
    url = f"/app/o/{organisation.pk}/account/preferences/"
    refused = owner_client.post(
        url, {"calling_hours_start": "07:30", "calling_hours_end": "21:30", "statement_frequency": "monthly"}
    )
    saved = owner_client.post(
        url,
        {
            "calling_hours_start": "10:00",
            "calling_hours_end": "18:00",
            "call_on_saturdays": "on",
            "statement_frequency": "weekly",
        },
    )

    assert "cannot start before 08:00" in refused.content.decode()
    assert "must end by 21:00" in refused.content.decode()
    assert saved.status_code == 302
    organisation.refresh_from_db()
    assert organisation.calling_hours_start.hour == 10 and organisation.call_on_saturdays
    assert organisation.statement_frequency == "weekly"


@pytest.mark.obligation("P12")
def test_service_updates_and_statements_reach_the_people_who_asked_for_them(
    client, organisation, owner, teammate, django_capture_on_commit_callbacks
):
    organisation.billing_email = "accounts@acme.example"
    organisation.save()
    login(client, teammate)
    client.post(f"/app/o/{organisation.pk}/account/notifications/", {"notify_usage_statements": "on"})

    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_notify(
            organisation=organisation, topic=selectors.Topic.USAGE_STATEMENTS, subject="Your November usage", body="1,204 calls."
        )
    statements = sorted(m.to[0] for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_notify(
            organisation=organisation, topic=selectors.Topic.SERVICE_UPDATES, subject="Maintenance", body="Sunday 02:00."
        )
    updates = sorted(m.to[0] for m in mail.outbox)

    assert statements == ["accounts@acme.example", teammate.email]  # the owner left statements off
    assert updates == [owner.email]  # the teammate turned service updates off
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody sees another recipient's address


@pytest.mark.obligation("P15")
def test_the_account_export_is_complete_and_audited(owner_client, organisation, owner, teammate):
    since = last_sequence()

    response = owner_client.post(f"/app/o/{organisation.pk}/account/export/")
    data = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)

    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert data["organisation"]["legal_name"] == "Acme Energy Ltd"
    assert {m["email"] for m in data["members"]} == {owner.email, teammate.email}
    assert {a["document"] for a in data["agreements"]} == {"Terms of Service", "Data Processing Agreement"}
    assert "hashed_key" not in response.content.decode()
    assert actions(since) == ["personal_data.exported"]


def test_viewers_cannot_export_the_account(client, organisation, teammate):
    login(client, teammate)

    assert client.post(f"/app/o/{organisation.pk}/account/export/").status_code == 403


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_portal_pages_refuse_methods_a_form_never_sends(owner_client, organisation, method):
    since = last_sequence()

    response = getattr(owner_client, method)(f"/app/o/{organisation.pk}/account/export/")

    assert response.status_code == 405 and response["Allow"] == "GET, HEAD, POST"
    assert actions(since) == []  # nothing exported


@pytest.mark.obligation("P35")
def test_account_data_of_a_person_is_found_through_the_registry(organisation, owner):
    organisation.billing_email = owner.email
    organisation.save()
    subject = privacy.Subject(email=owner.email, user_id=owner.pk)

    found = {entry.label for entry in privacy.registrations() if entry.rows_for(subject).exists()}

    assert {"accounts.User", "accounts.Membership", "accounts.Organisation", "account.EmailAddress"} <= found


def test_a_person_with_several_organisations_chooses_one(owner, outsider, other_organisation):
    MembershipFactory(user=owner, organisation=other_organisation, role=Role.VIEWER)
    client = login(Client(), owner)

    page = client.get("/app/").content.decode()

    assert "Acme Energy Ltd" in page and "Rival Telecom plc" in page


def test_a_signed_in_person_sets_up_another_organisation(owner_client):
    response = owner_client.post(
        "/app/organisations/new/",
        {"legal_name": "Acme Solar Ltd", "accept_terms": "on", "accept_dpa": "on", "version_terms": "1", "version_dpa": "1"},
    )

    created = Organisation.objects.get(legal_name="Acme Solar Ltd")
    assert response["Location"] == f"/app/o/{created.pk}/"
    assert PolicyAcceptance.objects.filter(organisation=created).count() == 2


@pytest.mark.obligation("P39")
def test_the_account_export_is_also_offered_as_csv_files(owner_client, organisation, owner, teammate):
    import csv
    import io
    import zipfile

    response = owner_client.post(f"/app/o/{organisation.pk}/account/export/", {"format": "csv"})
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    members = list(csv.DictReader(io.StringIO(archive.read("members.csv").decode("utf-8-sig"))))

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith('.zip"')
    assert {"organisation.csv", "billing.csv", "members.csv", "agreements.csv"} <= set(archive.namelist())
    assert {m["email"] for m in members} == {owner.email, teammate.email}


def test_the_account_export_refuses_a_format_it_does_not_have(owner_client, organisation):
    response = owner_client.post(f"/app/o/{organisation.pk}/account/export/", {"format": "xlsx"})

    assert response.status_code == 400
