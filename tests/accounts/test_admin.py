"""The back office for compliance staff: useful lists, no secrets (P25, P26)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import services, sign_in_limits
from accounts.models import APIKey, BackupCodeDevice, Organisation, PolicyAcceptance, TOTPDevice, User
from accounts.signals import organisation_closed
from nextsupport.models import AuditEvent
from tests.accounts.helpers import actions, last_sequence
from tests.conftest import login
from tests.factories import APIKeyFactory, MembershipFactory


@pytest.fixture
def staff(compliance_officer):
    return login(Client(), compliance_officer)


def test_the_compliance_officer_is_staff_but_not_a_superuser(compliance_officer):
    assert compliance_officer.is_staff and not compliance_officer.is_superuser
    assert compliance_officer.groups.filter(name="Compliance").exists()
    assert compliance_officer.has_perm("accounts.add_onboardingreview")
    assert not compliance_officer.has_perm("accounts.delete_organisation")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/organisation/?q=Acme",
        "/admin/accounts/membership/?q=owner%40acme.example",
        "/admin/accounts/policyacceptance/?q=Acme",
        "/admin/accounts/apikey/?q=Acme",
        "/admin/accounts/invitation/",
        "/admin/accounts/onboardingreview/",
        "/admin/accounts/user/?q=owner",
        "/admin/accounts/totpdevice/",
        "/admin/accounts/backupcodedevice/",
    ],
)
def test_compliance_staff_find_accounts_members_and_acceptances(staff, organisation, owner, url):
    APIKeyFactory(organisation=organisation)

    response = staff.get(url)

    assert response.status_code == 200, url


@pytest.mark.obligation("P03", "P25")
def test_no_secret_is_shown_anywhere_in_the_admin(staff, organisation, owner):
    key = APIKeyFactory(organisation=organisation)
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    codes = BackupCodeDevice.objects.create(user=owner, name="Backup codes")
    code = codes.replace_codes()[0]
    owner.refresh_from_db()
    pages = [
        f"/admin/accounts/apikey/{key.pk}/change/",
        "/admin/accounts/apikey/",
        f"/admin/accounts/totpdevice/{device.pk}/change/",
        f"/admin/accounts/backupcodedevice/{codes.pk}/change/",
        f"/admin/accounts/user/{owner.pk}/change/",
        f"/admin/accounts/organisation/{organisation.pk}/change/",
    ]

    html = "".join(staff.get(page).content.decode() for page in pages)

    for secret in (key.raw_key, key.hashed_key, device.key, owner.password, code, codes.code_hashes[0], codes.salt):
        assert secret not in html
    assert key.prefix in html


@pytest.mark.obligation("P02", "P25")
def test_staff_cannot_hand_out_staff_rights_or_edit_client_data(staff, owner, organisation):
    user_page = staff.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    org_page = staff.get(f"/admin/accounts/organisation/{organisation.pk}/change/").content.decode()

    assert 'name="is_staff"' not in user_page and 'name="groups"' not in user_page
    assert 'name="legal_name"' not in org_page and 'name="contract_end"' in org_page
    assert staff.get("/admin/accounts/organisation/add/").status_code == 403


@pytest.mark.obligation("P26")
def test_staff_revoke_a_key_and_unlock_an_account_through_the_audited_services(staff, organisation, owner, settings):
    key = APIKeyFactory(organisation=organisation)
    settings.SIGN_IN_ADDRESS_LIMIT_PER_HOUR = 1
    sign_in_limits.count_failure(owner.email, RequestFactory().post("/accounts/login/"))
    since = last_sequence()

    staff.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    staff.post("/admin/accounts/user/", {"action": "unlock", "_selected_action": [owner.pk]})

    assert APIKey.objects.get(pk=key.pk).revoked_at is not None
    assert not sign_in_limits.paused_everywhere(owner.email)
    assert actions(since) == ["api_key.revoked", "auth.account_unlocked"]
    assert AuditEvent.objects.get(sequence__gt=since, action="auth.account_unlocked").reason == "staff"


@pytest.mark.obligation("P25", "P26")
def test_resetting_a_lost_second_factor_is_audited(staff, owner):
    device = TOTPDevice.objects.create(user=owner, name="Lost phone", confirmed=True)
    since = last_sequence()

    staff.post(f"/admin/accounts/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert actions(since) == ["auth.second_factor_reset_by_staff"]


@pytest.mark.obligation("P53")
def test_acceptance_records_cannot_be_changed_or_deleted(staff, organisation):
    acceptance = PolicyAcceptance.objects.filter(organisation=organisation).first()

    assert staff.post(f"/admin/accounts/policyacceptance/{acceptance.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PolicyAcceptance.objects.filter(pk=acceptance.pk).exists()


def test_the_compliance_group_can_read_the_audit_trail_and_edit_policy_drafts(db):
    group = Group.objects.get(name="Compliance")

    granted = set(group.permissions.values_list("codename", flat=True))
    assert {"view_auditevent", "add_policydocument", "change_policydocument"} <= granted
    assert not {"delete_auditevent", "delete_policyacceptance", "delete_organisation"} & granted


# --- Closing, suspending and reopening an organisation (P29) -------------------------------

CHANGELIST = "/admin/accounts/organisation/"


def _hidden_inputs(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _act(staff, action: str, organisation, reason: str | None = None):
    data = {"action": action, "_selected_action": [organisation.pk]}
    if reason is not None:
        data.update(apply="yes", reason=reason)
    return staff.post(CHANGELIST, data)


@pytest.mark.obligation("P29")
def test_staff_cannot_change_an_organisations_status_by_editing_it(staff, organisation):
    url = f"/admin/accounts/organisation/{organisation.pk}/change/"
    page = staff.get(url).content.decode()

    staff.post(url, {**_hidden_inputs(page), "status": "closed", "contract_start": "", "contract_end": ""})

    assert 'name="status"' not in page
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.ACTIVE and organisation.contract_end is None


@pytest.mark.obligation("P29")
def test_staff_close_an_organisation_with_a_reason_through_the_closing_service(
    staff, compliance_officer, organisation, owner, teammate, django_capture_on_commit_callbacks
):
    heard = []
    organisation_closed.connect(lambda sender, organisation, closed_by, **kw: heard.append(closed_by), weak=False)
    since = last_sequence()

    asked = _act(staff, "close_organisations", organisation)
    unexplained = _act(staff, "close_organisations", organisation, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        done = _act(staff, "close_organisations", organisation, reason="Unpaid invoices since March.")

    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode() and "Acme Energy Ltd" in asked.content.decode()
    assert "Say why" in unexplained.content.decode()
    assert done.status_code == 302
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.CLOSED and organisation.closed_by == compliance_officer
    assert organisation.contract_end == timezone.localdate()
    assert User.objects.get(pk=teammate.pk).account_ended_on == timezone.localdate()
    assert heard == [compliance_officer]
    assert actions(since) == ["organisation.closed"]
    assert organisation.status_changes.get().reason == "Unpaid invoices since March."
    assert any("closed" in message.subject for message in mail.outbox)


@pytest.mark.obligation("P29")
def test_suspending_stops_access_but_keeps_the_contract_running(staff, organisation, teammate):
    member = login(Client(), teammate)
    since = last_sequence()

    _act(staff, "suspend_organisations", organisation, reason="Complaint under investigation.")

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.SUSPENDED
    assert organisation.contract_end is None and organisation.closed_at is None
    assert User.objects.get(pk=teammate.pk).account_ended_on is None
    assert member.get(f"/app/o/{organisation.pk}/").status_code == 404
    assert actions(since) == ["organisation.suspended"]


@pytest.mark.obligation("P29")
def test_reopening_a_closed_organisation_stops_the_retention_clocks_it_started(staff, organisation, owner, teammate):
    key = APIKeyFactory(organisation=organisation)
    services.organisation_close(organisation=organisation, by=owner, reason="", request=None)
    since = last_sequence()

    _act(staff, "reopen_organisations", organisation, reason="Closed by mistake; the client confirmed by phone.")

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.ACTIVE
    assert (organisation.contract_end, organisation.closed_at, organisation.closed_by) == (None, None, None)
    assert User.objects.filter(pk__in=[owner.pk, teammate.pk], account_ended_on__isnull=False).count() == 0
    assert APIKey.objects.get(pk=key.pk).revoked_at is not None  # credentials stay revoked
    assert login(Client(), teammate).get(f"/app/o/{organisation.pk}/").status_code == 200
    assert actions(since) == ["organisation.reopened"]


def test_reopening_a_suspended_organisation_leaves_its_contract_dates_alone(staff, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(contract_end="2030-03-31")
    services.organisation_suspend(organisation=organisation, by=None, reason="Check.", request=None)

    _act(staff, "reopen_organisations", organisation, reason="Checked.")

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.ACTIVE
    assert organisation.contract_end == datetime.date(2030, 3, 31)


def test_an_action_that_does_not_fit_the_status_says_so_and_changes_nothing(staff, organisation):
    response = staff.post(
        CHANGELIST,
        {"action": "reopen_organisations", "_selected_action": [organisation.pk], "apply": "yes", "reason": "x"},
        follow=True,
    )

    assert "is not closed or suspended" in response.content.decode()
    assert not organisation.status_changes.exists()


@pytest.mark.obligation("P29")
def test_closing_one_organisation_does_not_end_the_account_of_someone_whose_other_client_is_suspended(
    organisation, owner, teammate, other_organisation
):
    MembershipFactory(user=teammate, organisation=other_organisation)
    services.organisation_suspend(organisation=other_organisation, by=None, reason="Check.", request=None)

    services.organisation_close(organisation=organisation, by=owner, reason="", request=None)

    assert User.objects.get(pk=teammate.pk).account_ended_on is None
    assert User.objects.get(pk=owner.pk).account_ended_on == timezone.localdate()
