"""Compliance staff roles (DPO, officer, support) as Django groups; personal data masked in the
compliance admin until revealed, each reveal audited; the audit trail read-only and verifiable."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from compliance import roles
from compliance.models import Enquiry
from nextsupport import audit
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.factories import UserFactory


def staff(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def enquiry(db):
    return Enquiry.objects.create(name="Priya Shah", email="priya.shah@example.org", subject="Pricing", message="How much?")


def test_the_roles_grant_what_each_role_is_for(db):
    dpo, officer, support = staff(roles.DPO), staff(roles.OFFICER), staff(roles.SUPPORT)

    assert dpo.has_perm("auth.change_group") and dpo.has_perm("accounts.change_user")
    assert dpo.has_perm("compliance.change_breach") and dpo.has_perm("compliance.approve_disclosure")
    assert not officer.has_perm("auth.change_group") and not officer.has_perm("accounts.add_user")
    assert officer.has_perm("accounts.view_user") and officer.has_perm("compliance.change_breach")
    assert officer.has_perm("compliance.approve_disclosure")
    assert support.has_perm("compliance.view_enquiry") and support.has_perm("compliance.view_breach")
    assert not support.has_perm("compliance.change_breach") and not support.has_perm("compliance.add_breach")
    assert not support.has_perm("compliance.view_disclosure") and not support.has_perm("accounts.view_user")
    for user in (dpo, officer, support):
        assert not user.has_perm("nextsupport.change_auditevent") and not user.has_perm("nextsupport.delete_auditevent")


def test_a_model_added_later_joins_the_roles_by_the_rule():
    everything = [("compliance", "accessrequest", "view_accessrequest"), ("compliance", "accessrequest", "change_accessrequest")]

    granted = roles.role_permissions([*everything, ("auth", "group", "change_group"), ("auth", "group", "view_group")])

    assert ("compliance", "view_accessrequest") in granted[roles.SUPPORT]
    assert ("compliance", "change_accessrequest") not in granted[roles.SUPPORT]
    assert ("compliance", "change_accessrequest") in granted[roles.OFFICER]
    assert ("auth", "change_group") not in granted[roles.OFFICER] and ("auth", "view_group") in granted[roles.OFFICER]
    assert ("auth", "change_group") in granted[roles.DPO]


def test_support_can_read_enquiries_but_not_change_them(client, enquiry):
    login(client, staff(roles.SUPPORT))

    assert client.get("/admin/compliance/enquiry/").status_code == 200
    assert client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/").status_code == 200
    client.post("/admin/compliance/enquiry/", {"action": "mark_resolved", "_selected_action": [enquiry.pk]})
    assert Enquiry.objects.get().status == Enquiry.Status.OPEN


@pytest.mark.obligation("P13")
def test_personal_data_is_masked_until_revealed_and_each_reveal_records_who_what_and_why(client, enquiry):
    officer = staff(roles.OFFICER)
    login(client, officer)
    page_url = f"/admin/compliance/enquiry/{enquiry.pk}/change/"

    masked = client.get(page_url).content.decode()
    no_reason = client.post(f"/admin/compliance/enquiry/{enquiry.pk}/reveal/", {"reason": ""})
    revealed_without_reason = AuditEvent.objects.filter(action=audit.PERSONAL_DATA_REVEALED).exists()
    client.post(f"/admin/compliance/enquiry/{enquiry.pk}/reveal/", {"reason": "Answering the enquiry"})
    revealed = client.get(page_url).content.decode()

    assert "Priya Shah" not in masked and "priya.shah@example.org" not in masked and "P•••••" in masked
    assert no_reason.status_code == 400 and not revealed_without_reason
    assert "Priya Shah" in revealed and "priya.shah@example.org" in revealed
    event = AuditEvent.objects.get(action=audit.PERSONAL_DATA_REVEALED)
    assert (event.actor, event.reason, event.target_id) == (officer, "Answering the enquiry", str(enquiry.pk))
    assert event.details == {"fields": ["name", "email", "subject", "message"], "via": "admin"}
    assert "Priya" not in str(event.details)


def test_a_reveal_lasts_ten_minutes_and_only_for_that_record(client, enquiry):
    other = Enquiry.objects.create(name="Tom Hale", email="tom@example.org", subject="Hello", message="Hi")
    login(client, staff(roles.OFFICER))
    client.post(f"/admin/compliance/enquiry/{enquiry.pk}/reveal/", {"reason": "Answering"})

    assert "Tom Hale" not in client.get(f"/admin/compliance/enquiry/{other.pk}/change/").content.decode()
    with _later(minutes=11):
        assert "Priya Shah" not in client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/").content.decode()


def _later(*, minutes: int):
    import datetime

    import time_machine
    from django.utils import timezone

    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes))


def test_a_person_who_may_not_view_the_record_cannot_reveal_it(client, enquiry):
    login(client, UserFactory(is_staff=True))  # staff, but in no role

    assert client.post(f"/admin/compliance/enquiry/{enquiry.pk}/reveal/", {"reason": "Curious"}).status_code == 403
    assert not AuditEvent.objects.filter(action=audit.PERSONAL_DATA_REVEALED).exists()


@pytest.mark.obligation("P26")
def test_the_audit_trail_is_browsable_but_no_one_can_add_change_or_delete_an_event(client, db):
    dpo = staff(roles.DPO)
    dpo.is_superuser = True  # even a superuser
    dpo.save()
    event = audit.record("auth.signed_in", actor=dpo)
    login(client, dpo)

    listing = client.get("/admin/nextsupport/auditevent/", {"action__exact": "auth.signed_in"})

    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    assert client.get("/admin/nextsupport/auditevent/add/").status_code == 403
    assert client.post(f"/admin/nextsupport/auditevent/{event.pk}/delete/").status_code == 403
    client.post(f"/admin/nextsupport/auditevent/{event.pk}/change/", {"action": "auth.tampered"})
    assert AuditEvent.objects.get(pk=event.pk).action == "auth.signed_in"


@pytest.mark.obligation("P26")
def test_staff_verify_the_chain_from_the_admin_and_see_where_it_breaks(client, db):
    login(client, staff(roles.SUPPORT))
    assert client.post("/admin/nextsupport/auditevent/verify/").status_code == 403
    officer = staff(roles.OFFICER)
    login(client, officer)
    for n in range(3):
        audit.record("test.event", actor=officer, details={"n": n})

    intact = client.post("/admin/nextsupport/auditevent/verify/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE nextsupport_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE nextsupport_auditevent SET details = '{\"n\": 9}' WHERE details->>'n' = '1'")
        cursor.execute("ALTER TABLE nextsupport_auditevent ENABLE TRIGGER USER")
    broken = client.post("/admin/nextsupport/auditevent/verify/").content.decode()

    assert "The chain holds" in intact
    assert "The chain is broken at event #" in broken and "was altered" in broken


def test_the_admin_index_links_the_compliance_dashboard(client, db):
    login(client, staff(roles.OFFICER))

    index = client.get("/admin/").content.decode()
    dashboard = client.get("/admin/compliance/dashboard/")

    assert 'href="/admin/compliance/dashboard/"' in index
    assert dashboard.status_code == 200 and "Breach steps due or overdue" in dashboard.content.decode()
