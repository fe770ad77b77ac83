"""Disclosures to regulators and law enforcement (P21) and staff data-protection training (P27)."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection

from compliance import events, records
from compliance.models import Disclosure, TrainingRecord
from compliance.roles import DPO, OFFICER, SUPPORT
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.factories import UserFactory


def staff(role: str, **fields):
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


def a_request(actor) -> Disclosure:
    return records.disclosure_record(
        disclosure=Disclosure(
            authority="Metropolitan Police Service",
            requester_contact="DC Jones, 020 7946 0000",
            authority_reference="MPS/2026/0042",
            legal_basis="DPA 2018 Schedule 2 paragraph 2 (crime and taxation), form signed by an inspector",
            data_disclosed="Call records for one number on 3 November 2026",
        ),
        actor=actor,
    )


@pytest.mark.obligation("P21")
def test_a_disclosure_records_who_asked_the_legal_basis_what_when_and_who_approved(db):
    officer, dpo = staff(OFFICER), staff(DPO)
    disclosure = a_request(officer)

    records.disclosure_decide(disclosure=disclosure, disclose=True, note="Checked the inspector's signature.", actor=dpo)

    disclosure.refresh_from_db()
    assert disclosure.status == Disclosure.Status.DISCLOSED and disclosure.disclosed_at is not None
    assert (disclosure.authority, disclosure.created_by, disclosure.approved_by) == ("Metropolitan Police Service", officer, dpo)
    assert [e.action for e in AuditEvent.objects.order_by("sequence").filter(target_id=str(disclosure.pk))] == [
        events.DISCLOSURE_RECORDED,
        events.DISCLOSURE_DECIDED,
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_disclosed, requester_contact FROM compliance_disclosure")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"Call records" not in raw and b"Jones" not in raw  # encrypted at rest


@pytest.mark.obligation("P21")
def test_only_an_officer_or_the_dpo_may_approve_and_only_once(db):
    support, officer = staff(SUPPORT), staff(OFFICER)
    disclosure = a_request(officer)

    with pytest.raises(ValidationError, match="compliance officer or the DPO"):
        records.disclosure_decide(disclosure=disclosure, disclose=True, note="ok", actor=support)
    with pytest.raises(ValidationError):
        records.disclosure_decide(disclosure=disclosure, disclose=True, note=" ", actor=officer)
    records.disclosure_decide(disclosure=disclosure, disclose=False, note="No valid basis given.", actor=officer)
    with pytest.raises(ValidationError, match="already been decided"):
        records.disclosure_decide(disclosure=disclosure, disclose=True, note="Changed my mind.", actor=officer)


@pytest.mark.obligation("P21")
def test_disclosures_are_kept_out_of_supports_sight_and_masked_for_the_rest(client, db):
    officer, support = staff(OFFICER), staff(SUPPORT)
    disclosure = a_request(officer)

    login(client, support)
    assert client.get("/admin/compliance/disclosure/").status_code == 403
    login(client, officer)
    listing = client.get("/admin/compliance/disclosure/").content.decode()
    page = client.get(f"/admin/compliance/disclosure/{disclosure.pk}/change/").content.decode()
    decided = client.post(
        f"/admin/compliance/disclosure/{disclosure.pk}/decide/", {"decision": "disclose", "note": "Signed form checked."}
    )

    assert "Metropolitan Police Service" in listing and "DC Jones" not in listing and "DC Jones" not in page
    assert decided.status_code == 302
    assert Disclosure.objects.get().approved_by == officer
    assert client.post(f"/admin/compliance/disclosure/{disclosure.pk}/delete/").status_code == 403


@pytest.mark.obligation("P27")
def test_training_is_recorded_per_staff_user_and_overdue_after_twelve_months(client, db):
    dpo = staff(DPO, email="dpo@nextsupport.example")
    trained = staff(SUPPORT, email="trained@nextsupport.example")
    lapsed = staff(SUPPORT, email="lapsed@nextsupport.example")
    client_user = UserFactory(email="owner@client.example")

    with time_machine.travel(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)):
        records.training_record(
            record=TrainingRecord(staff_user=trained, course="UK GDPR essentials", completed_on=datetime.date(2026, 6, 1)),
            actor=dpo,
        )
        records.training_record(
            record=TrainingRecord(staff_user=lapsed, course="UK GDPR essentials", completed_on=datetime.date(2025, 11, 30)),
            actor=dpo,
        )
        with pytest.raises(ValidationError, match="staff only"):
            records.training_record(
                record=TrainingRecord(staff_user=client_user, course="x", completed_on=datetime.date(2026, 6, 1)), actor=dpo
            )
        overdue = [t["user"].email for t in records.staff_training_overdue()]
        login(client, dpo)
        dashboard = client.get("/admin/compliance/dashboard/").content.decode()

    assert overdue == ["dpo@nextsupport.example", "lapsed@nextsupport.example"]
    assert "lapsed@nextsupport.example" in dashboard and "no training recorded" in dashboard
    assert AuditEvent.objects.filter(action=events.TRAINING_RECORDED).count() == 2


@pytest.mark.obligation("P27")
def test_training_is_recorded_from_the_admin_and_kept_unchanged(client, db):
    dpo = staff(DPO)
    trainee = staff(SUPPORT)
    login(client, dpo)

    response = client.post(
        "/admin/compliance/trainingrecord/add/",
        {
            "staff_user": trainee.pk,
            "course": "Handling data-subject requests",
            "completed_on": "2026-11-20",
            "evidence": "Cert 881",
        },
    )

    assert response.status_code == 302
    record = TrainingRecord.objects.get()
    assert (record.staff_user, record.recorded_by) == (trainee, dpo)
    assert client.post(f"/admin/compliance/trainingrecord/{record.pk}/delete/").status_code == 403
