"""An organisation's life: onboarding review (P19), new agreement versions (P53), closing (P29)."""

import datetime
import json

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import selectors, services
from accounts.models import (
    APIKey,
    Invitation,
    OnboardingReview,
    Organisation,
    OrganisationStatusChange,
    PolicyAcceptance,
    User,
)
from accounts.signals import organisation_closed
from nextsupport import privacy
from nextsupport.models import AuditEvent, PolicyDocument
from tests.accounts.helpers import actions, approve, last_sequence, request_changes
from tests.conftest import login
from tests.factories import PASSWORD, APIKeyFactory, InvitationFactory, MembershipFactory, OrganisationFactory

# --- Onboarding review (P19) --------------------------------------------------------------


@pytest.fixture
def newcomer(db):
    organisation = OrganisationFactory(new=True, legal_name="Fresh Leads Ltd", lawful_basis_statement="")
    owner = MembershipFactory(organisation=organisation, role="owner", user__email="founder@fresh.example").user
    services.agreements_accept(organisation=organisation, user=owner, documents=selectors.current_agreements(), request=None)
    return organisation


@pytest.mark.obligation("P19")
def test_a_new_organisation_cannot_launch_calls_until_compliance_approves_it(newcomer):
    assert not selectors.organisation_may_launch_calls(newcomer)
    assert "Our compliance team has not approved the account yet." in selectors.launch_blockers(newcomer)


@pytest.mark.obligation("P19")
def test_compliance_approves_against_the_checklist_in_the_admin_and_the_client_is_told(
    compliance_officer, newcomer, django_capture_on_commit_callbacks
):
    newcomer.lawful_basis_statement = "Consent collected at checkout, wording v3."
    newcomer.save()
    staff = login(Client(), compliance_officer)
    url = f"/admin/accounts/organisation/{newcomer.pk}/review/"
    since = last_sequence()

    page = staff.get(url)
    incomplete = staff.post(url, {"decision": "approve", "company_details_checked": "on", "dpa_accepted": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        approved = staff.post(
            url,
            {"decision": "approve", "company_details_checked": "on", "dpa_accepted": "on", "lawful_basis_reviewed": "on"},
        )

    assert page.status_code == 200 and "Consent collected at checkout" in page.content.decode()
    assert "missing: lawful-basis statement reviewed" in incomplete.content.decode()
    assert approved.status_code == 302
    newcomer.refresh_from_db()
    assert selectors.organisation_may_launch_calls(newcomer)
    review = OnboardingReview.objects.get(organisation=newcomer)
    assert (review.decided_by, review.dpa_version, review.decision) == (compliance_officer, 1, "approved")
    assert actions(since) == ["onboarding.approved"]
    assert mail.outbox[-1].to == ["founder@fresh.example"] and "approved" in mail.outbox[-1].subject


@pytest.mark.obligation("P19")
def test_a_rejection_needs_a_reason_which_is_recorded_and_sent(compliance_officer, newcomer, django_capture_on_commit_callbacks):
    staff = login(Client(), compliance_officer)
    url = f"/admin/accounts/organisation/{newcomer.pk}/review/"

    without_reason = staff.post(url, {"decision": "reject"})
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"decision": "reject", "reason": "The company number does not match Companies House."})

    assert "Say what the organisation must change" in without_reason.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.onboarding_status == Organisation.Onboarding.REJECTED
    assert OnboardingReview.objects.get(organisation=newcomer).reason.startswith("The company number")
    assert "does not match Companies House" in mail.outbox[-1].body
    owner = login(Client(), User.objects.get(email="founder@fresh.example"))
    assert "does not match Companies House" in owner.get(f"/app/o/{newcomer.pk}/").content.decode()


@pytest.mark.obligation("P19")
def test_approval_is_refused_without_the_dpa_on_record(compliance_officer, db):
    organisation = OrganisationFactory(new=True, lawful_basis_statement="Consent.")

    with pytest.raises(services.ValidationError, match="Data Processing Agreement"):
        approve(organisation, by=compliance_officer)


@pytest.mark.obligation("P19", "P25")
def test_client_users_cannot_reach_the_review(owner_client, newcomer):
    assert owner_client.get(f"/admin/accounts/organisation/{newcomer.pk}/review/", follow=True).status_code == 403


# --- New versions of the agreements (P53) --------------------------------------------------------


@pytest.fixture
def terms_v2(db):
    return PolicyDocument.objects.create(
        kind=PolicyDocument.Kind.TERMS,
        version=2,
        title="Terms of Service",
        body="Last Updated: 1 December 2026\n1. The service\nWe now also answer inbound calls.",
        summary_of_changes="Inbound calls added.",
        status=PolicyDocument.Status.PUBLISHED,
        effective_date=timezone.localdate() - datetime.timedelta(days=1),
        significant_change=True,
    )


@pytest.mark.obligation("P53")
def test_a_new_terms_version_must_be_accepted_before_the_portal_and_calls_continue(
    client, organisation, owner, teammate, terms_v2
):
    viewer = login(Client(), teammate)
    assert viewer.get(f"/app/o/{organisation.pk}/")["Location"] == f"/app/o/{organisation.pk}/account/agreements/"
    assert "An owner or admin" in viewer.get(f"/app/o/{organisation.pk}/account/agreements/").content.decode()
    assert not selectors.organisation_may_launch_calls(organisation)

    owner_browser = login(Client(REMOTE_ADDR="198.51.100.20"), owner)
    page = owner_browser.get(f"/app/o/{organisation.pk}/account/agreements/")
    response = owner_browser.post(f"/app/o/{organisation.pk}/account/agreements/", {"accept_terms": "on", "version_terms": "2"})

    assert "Inbound calls added." in page.content.decode()
    assert response["Location"] == f"/app/o/{organisation.pk}/"
    acceptance = PolicyAcceptance.objects.get(organisation=organisation, document=terms_v2)
    assert (acceptance.user, acceptance.ip_address) == (owner, "198.51.100.20")
    assert viewer.get(f"/app/o/{organisation.pk}/").status_code == 200
    assert selectors.organisation_may_launch_calls(organisation)


def test_the_team_page_and_closing_stay_reachable_while_terms_are_outstanding(owner_client, organisation, terms_v2):
    assert owner_client.get(f"/app/o/{organisation.pk}/account/team/").status_code == 200
    assert owner_client.get(f"/app/o/{organisation.pk}/account/close/").status_code == 200


@pytest.mark.obligation("P53")
def test_each_accepted_version_stays_readable(client, terms_v2):
    assert "We now also answer inbound calls." in client.get("/legal/terms-of-service/").content.decode()
    assert "1. The service" in client.get("/legal/terms-of-service/?version=1").content.decode()
    assert client.get("/legal/data-processing-agreement/").status_code == 200


@pytest.mark.parametrize("version", ["²", "٣", "1.0", "-1", "abc", "99999999999999999999999"])
def test_a_version_that_is_not_a_plain_number_or_not_published_is_not_found(client, db, version):
    # "²" and "٣" pass str.isdigit() but int() refuses them: they once answered 500.
    response = client.get("/legal/terms-of-service/", {"version": version})

    assert response.status_code == 404


def test_the_seeded_agreements_are_real_documents(db):
    terms, dpa = selectors.current_agreements()

    assert "UK GDPR" in dpa.body and "Article 28" in dpa.body and "72 hours" in dpa.body
    assert "England and Wales" in terms.body and "two-factor" in terms.body.lower()


# --- Closing an account (P29) ---------------------------------------------------------------------


def _close(client, organisation, name="Acme Energy Ltd"):
    return client.post(
        f"/app/o/{organisation.pk}/account/close/",
        {"confirm_name": name, "reason": "Moving to an in-house team.", "understood": "on"},
    )


@pytest.mark.obligation("P29")
def test_an_owner_closes_the_account_after_reauthenticating(
    owner_client, organisation, owner, teammate, django_capture_on_commit_callbacks
):
    key = APIKeyFactory(organisation=organisation)
    invitation = InvitationFactory(organisation=organisation)
    teammate_browser = login(Client(), teammate)
    heard = []
    organisation_closed.connect(
        lambda sender, organisation, closed_by, **kw: heard.append((organisation.pk, closed_by)), weak=False
    )

    first = _close(owner_client, organisation)
    assert first["Location"].startswith("/accounts/reauthenticate/")
    assert Organisation.objects.get(pk=organisation.pk).status == Organisation.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(first["Location"], {"password": PASSWORD}, follow=True)

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.CLOSED
    assert organisation.contract_end == timezone.localdate()
    assert organisation.closed_by == owner
    assert heard == [(organisation.pk, owner)]
    assert APIKey.objects.get(pk=key.pk).revoked_at is not None
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    assert "is closed" in done.content.decode()
    assert teammate_browser.get(f"/app/o/{organisation.pk}/").status_code == 404
    assert owner_client.get(f"/api/v1/orgs/{organisation.pk}/").status_code == 404
    assert any("closed" in m.subject for m in mail.outbox)


@pytest.mark.obligation("P29")
def test_closing_starts_the_retention_clock_at_the_contract_end(organisation, owner, teammate, other_organisation):
    MembershipFactory(user=teammate, organisation=other_organisation)  # still active elsewhere
    # A billing contact to clear: a row with nothing left to anonymise is never expired again.
    Organisation.objects.filter(pk=organisation.pk).update(billing_contact_name="Mary Jones")
    services.organisation_close(organisation=organisation, by=owner, reason="", request=None)
    org_rule = privacy.registration_for(Organisation)
    end = timezone.now()

    assert User.objects.get(pk=owner.pk).account_ended_on == timezone.localdate()
    assert User.objects.get(pk=teammate.pk).account_ended_on is None
    assert org_rule.retention.after == "contract_end"
    assert not org_rule.expired(end + datetime.timedelta(days=6 * 365)).filter(pk=organisation.pk).exists()
    assert org_rule.expired(end + datetime.timedelta(days=6 * 366 + 2)).filter(pk=organisation.pk).exists()
    assert privacy.registration_for(User).expired(end + datetime.timedelta(days=6 * 366 + 2)).filter(pk=owner.pk).exists()


def test_closing_needs_the_exact_name_and_the_close_capability(client, organisation, owner, teammate):
    admin = MembershipFactory(organisation=organisation, role="admin").user
    admin_browser = login(Client(), admin)
    owner_browser = login(client, owner)
    owner_browser.post("/accounts/reauthenticate/", {"password": PASSWORD})

    wrong_name = _close(owner_browser, organisation, name="Acme")
    by_admin = _close(admin_browser, organisation)

    assert "exactly as shown" in wrong_name.content.decode()
    assert by_admin.status_code == 403
    assert Organisation.objects.get(pk=organisation.pk).status == Organisation.Status.ACTIVE


def test_closing_twice_is_refused(organisation, owner):
    services.organisation_close(organisation=organisation, by=owner, reason="", request=None)

    with pytest.raises(services.ValidationError, match="already closed"):
        services.organisation_close(organisation=organisation, by=owner, reason="", request=None)


# --- Free text stays with the record it explains, never in the audit trail (P26, P37) ----------


def _stored_bytes(table: str, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return b"".join(bytes(row[0]) for row in cursor.fetchall() if row[0] is not None)


@pytest.mark.obligation("P24", "P37")
def test_a_closing_reason_is_kept_encrypted_with_the_account_and_erasable_not_in_the_audit_trail(organisation, owner):
    since = last_sequence()

    services.organisation_close(organisation=organisation, by=owner, reason="Our director Jane Doe retired.", request=None)

    event = AuditEvent.objects.get(sequence__gt=since, action="organisation.closed")
    change = OrganisationStatusChange.objects.get(organisation=organisation)
    assert "Jane Doe" not in event.reason + json.dumps(event.details)
    assert event.details["status_change"] == change.pk
    assert change.reason == "Our director Jane Doe retired."
    assert b"Jane Doe" not in _stored_bytes("accounts_organisationstatuschange", "reason")
    rule = privacy.registration_for(OrganisationStatusChange)
    rule.erase(rule.rows_for(privacy.Subject(user_id=owner.pk)))
    assert OrganisationStatusChange.objects.get(pk=change.pk).reason is None


@pytest.mark.obligation("P24", "P37")
def test_a_rejection_reason_is_kept_encrypted_with_the_review_not_in_the_audit_trail(compliance_officer, newcomer):
    since = last_sequence()

    review = request_changes(newcomer, by=compliance_officer, reason="Director Jane Doe is disqualified at Companies House.")

    event = AuditEvent.objects.get(sequence__gt=since, action="onboarding.rejected")
    assert "Jane Doe" not in event.reason + json.dumps(event.details)
    assert event.details["review"] == review.pk
    assert OnboardingReview.objects.get(pk=review.pk).reason.startswith("Director Jane Doe")
    assert b"Jane Doe" not in _stored_bytes("accounts_onboardingreview", "reason")
