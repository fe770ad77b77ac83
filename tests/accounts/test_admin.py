"""The back office for compliance staff: useful lists, no secrets (P25, P26)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import APIKey, BackupCodeDevice, PolicyAcceptance, User
from tests.accounts.helpers import actions, last_sequence
from tests.conftest import login
from tests.factories import APIKeyFactory


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
        "/admin/otp_totp/totpdevice/",
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
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/admin/accounts/backupcodedevice/{codes.pk}/change/",
        f"/admin/accounts/user/{owner.pk}/change/",
        f"/admin/accounts/organisation/{organisation.pk}/change/",
    ]

    html = "".join(staff.get(page).content.decode() for page in pages)

    for secret in (key.raw_key, key.hashed_key, device.key, owner.password, code, codes.code_hashes[0], codes.salt):
        assert secret not in html
    assert key.prefix in html


def test_staff_cannot_hand_out_staff_rights_or_edit_client_data(staff, owner, organisation):
    user_page = staff.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    org_page = staff.get(f"/admin/accounts/organisation/{organisation.pk}/change/").content.decode()

    assert 'name="is_staff"' not in user_page and 'name="groups"' not in user_page
    assert 'name="legal_name"' not in org_page and 'name="status"' in org_page
    assert staff.get("/admin/accounts/organisation/add/").status_code == 403


def test_staff_revoke_a_key_and_unlock_an_account_through_the_audited_services(staff, organisation, owner):
    key = APIKeyFactory(organisation=organisation)
    User.objects.filter(pk=owner.pk).update(locked_until="2099-01-01T00:00:00Z")
    since = last_sequence()

    staff.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    staff.post("/admin/accounts/user/", {"action": "unlock", "_selected_action": [owner.pk]})

    assert APIKey.objects.get(pk=key.pk).revoked_at is not None
    assert not User.objects.get(pk=owner.pk).is_locked()
    assert actions(since) == ["api_key.revoked", "auth.account_unlocked"]


def test_resetting_a_lost_second_factor_is_audited(staff, owner):
    device = TOTPDevice.objects.create(user=owner, name="Lost phone", confirmed=True)
    since = last_sequence()

    staff.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert actions(since) == ["auth.second_factor_reset_by_staff"]


def test_acceptance_records_cannot_be_changed_or_deleted(staff, organisation):
    acceptance = PolicyAcceptance.objects.filter(organisation=organisation).first()

    assert staff.post(f"/admin/accounts/policyacceptance/{acceptance.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PolicyAcceptance.objects.filter(pk=acceptance.pk).exists()


def test_the_compliance_group_can_read_the_audit_trail_and_edit_policy_drafts(db):
    group = Group.objects.get(name="Compliance")

    granted = set(group.permissions.values_list("codename", flat=True))
    assert {"view_auditevent", "add_policydocument", "change_policydocument"} <= granted
    assert not {"delete_auditevent", "delete_policyacceptance", "delete_organisation"} & granted
