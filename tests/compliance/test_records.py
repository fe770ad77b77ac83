"""The record of processing activities (P01, P17): generated from the personal-data registry and the
table of purposes and lawful bases; a category without an entry shows as missing; exportable as CSV."""

import csv
import io

import pytest
from django.core.management import call_command

from compliance import events, records
from compliance.models import LawfulBasis, ProcessingActivity
from nextsupport import privacy
from nextsupport.models import AuditEvent
from tests.conftest import login


def csv_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.mark.obligation("P01", "P17")
def test_every_registered_category_has_a_row_with_its_role_purpose_basis_and_retention(db):
    rows = {row.category: row for row in records.records_of_processing()}

    assert set(rows) >= {r.category for r in privacy.registrations()}
    consumer = rows[privacy.Category.CONSUMER]
    assert "consumers.Consumer" in [h.model for h in consumer.holdings]
    assert "Processor" in consumer.roles
    assert consumer.entry.lawful_basis == LawfulBasis.CLIENT
    enquiries = rows[privacy.Category.FORM_SUBMISSION]
    assert enquiries.roles == "Controller" and enquiries.entry.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS
    assert any("365 days after received_at" in h.retention for h in enquiries.holdings)
    assert all(row.entry is not None for row in rows.values())  # the seed covers every category today


@pytest.mark.obligation("P01")
def test_a_category_without_an_entry_is_shown_as_missing_not_skipped(db):
    ProcessingActivity.objects.filter(category=privacy.Category.RECORDING).delete()

    rows = {row.category: row for row in records.records_of_processing()}

    assert rows[privacy.Category.RECORDING].missing
    assert "Call recording" in records.categories_without_record()
    exported = list(records.ropa_rows([rows[privacy.Category.RECORDING]]))
    assert exported[0][-1].startswith("MISSING")


@pytest.mark.obligation("P01")
def test_a_missing_entry_is_a_system_check_warning(db, capsys):
    ProcessingActivity.objects.filter(category=privacy.Category.CONSENT).delete()

    call_command("check", "--database", "default")

    assert "compliance.W002" in capsys.readouterr().err


@pytest.mark.obligation("P01", "P17")
def test_staff_view_the_record_and_download_it_as_csv(client, db, compliance_officer):
    from django.contrib.auth.models import Group

    from compliance.roles import OFFICER

    compliance_officer.groups.add(Group.objects.get(name=OFFICER))
    ProcessingActivity.objects.filter(category=privacy.Category.SUPPRESSION).update(purpose='=HYPERLINK("x")')
    login(client, compliance_officer)

    page = client.get("/admin/compliance/processingactivity/record/").content.decode()
    download = client.get("/admin/compliance/processingactivity/record.csv")

    assert "Record of processing activities" in page and "consumers.Consumer" in page
    rows = csv_of(download)
    assert rows[0] == records.ROPA_HEADER
    by_category = {row[0]: row for row in rows[1:]}
    assert by_category["Consumer contact data"][5] == "The client's basis (NextSupport is processor)"
    assert by_category["Opt-out and suppression"][4] == '\'=HYPERLINK("x")'  # formula-safe
    assert AuditEvent.objects.filter(action=events.RECORDS_OF_PROCESSING_EXPORTED).count() == 1


def test_editing_an_entry_is_audited(client, db):
    from django.contrib.auth.models import Group

    from compliance.roles import OFFICER
    from tests.factories import UserFactory

    officer = UserFactory(is_staff=True)
    officer.groups.add(Group.objects.get(name=OFFICER))
    entry = ProcessingActivity.objects.get(category=privacy.Category.COOKIE_CONSENT)
    login(client, officer)

    response = client.post(
        f"/admin/compliance/processingactivity/{entry.pk}/change/",
        {
            "category": entry.category,
            "purpose": "Proving each visitor's cookie choice.",
            "lawful_basis": "legal_obligation",
            "lawful_basis_detail": entry.lawful_basis_detail,
            "recipients": entry.recipients,
            "transfer_safeguard": "uk",
            "transfer_detail": "",
        },
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(action=events.PROCESSING_ACTIVITY_SAVED)
    assert event.actor == officer and set(event.details["fields"]) == {"purpose", "transfer_detail"}
