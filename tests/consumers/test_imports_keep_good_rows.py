"""Imports keep everyone they can and give the client back what they could not keep:
the rejected rows to correct, duplicate headers named at upload, and files we cannot
read refused at upload with the real reason, before anything is stored."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from consumers import selectors, services
from consumers.csvfiles import SAMPLE_BYTES, ImportFileError
from consumers.models import ContactList, ImportJob, ImportProblem
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.consumers.conftest import csv_bytes, load_registers, make_list, run_import, upload, years_ago
from tests.consumers.test_import_files import nothing_stored, stored_files


def downloaded(response) -> list[list[str]]:
    """The CSV's rows, read as a spreadsheet would (every field is quoted), the BOM left out."""
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))


# --- The rejected rows -------------------------------------------------------------


@pytest.mark.obligation("P10")
def test_the_rejected_rows_come_back_in_the_files_own_columns_with_dropped_columns_empty(service_list, owner, client):
    # Given a file with a column we do not import and two rows that cannot be imported
    header = ["Name", "Phone", "Notes"]
    rows = [["Ada", "07911 123456", "VIP"], ["Bob", "12345", "call after 6"], ["=cmd|' /C calc'!A0", "", "x"]]

    # When it is imported and the rejected rows are downloaded
    job = run_import(service_list, owner, csv_bytes(header, *rows), mapping={"0": "name", "1": "phone"})
    response = login(client, owner).get(reverse("consumers:import-rejected-rows", args=[service_list.organisation_id, job.pk]))

    # Then they come in the original columns, the unimported one empty (never kept), every cell formula-safe
    assert (job.created, job.rejected) == (1, 2)
    assert response.status_code == 200
    assert downloaded(response) == [["Name", "Phone", "Notes"], ["Bob", "12345", ""], ["'=cmd|' /C calc'!A0", "", ""]]
    assert AuditEvent.objects.filter(action="personal_data.exported", details__export="rejected rows").exists()


@pytest.mark.obligation("P40", "P48", "P49")
def test_suppressed_screened_out_and_under_16_rows_are_never_in_the_rejected_rows(organisation, owner):
    # Given a marketing list, a number on the do-not-call list and one on the TPS
    load_registers("07911 123457")
    services.suppression_add(phone="07911 123458", organisation=organisation, reason="opt_out", source="client_request")
    marketing = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING, name="Offers")
    header = ["Phone", "Name", "Opt-in date", "DOB"]
    rows = [
        ["07911 123457", "On TPS", "2026-01-05", ""],
        ["07911 123458", "Opted out", "2026-01-05", ""],
        ["07911 123459", "A child", "2026-01-05", years_ago(10)],
        ["12345", "Fixable", "2026-01-05", ""],
    ]

    # When the file is imported
    job = run_import(marketing, owner, csv_bytes(header, *rows))

    # Then only the row the client can fix comes back; the others' values were never kept
    assert (job.screened_out, job.suppressed, job.minors) == (1, 1, 1)
    assert list(selectors.rejected_rows(job)) == [["12345", "Fixable", "2026-01-05", ""]]
    assert ImportProblem.objects.filter(cells__isnull=False).count() == 1


@pytest.mark.obligation("P24", "P30")
def test_the_rejected_rows_are_encrypted_and_go_with_the_error_report(service_list, owner):
    # Given an import with a rejected row
    job = run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["0799 SECRET", "Secret Person"]))

    # Then its values are stored encrypted, on the error report's own rows (same 30 days)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cells FROM consumers_importproblem")
        assert b"Secret" not in bytes(cursor.fetchone()[0])
    assert json.loads(ImportProblem.objects.get(job=job).cells) == {"0": "0799 SECRET", "1": "Secret Person"}


def test_a_viewer_cannot_download_the_rejected_rows(service_list, owner, teammate, client):
    job = run_import(service_list, owner, csv_bytes(["Phone"], ["12345"]))

    response = login(client, teammate).get(reverse("consumers:import-rejected-rows", args=[service_list.organisation_id, job.pk]))

    assert response.status_code == 403


# --- What the upload says about the file -----------------------------------------------


def test_duplicate_header_names_are_reported_at_upload_with_the_column_used(service_list, owner, client):
    # Given a file with two columns called "Email" (in different spellings)
    data = csv_bytes(["Phone", "Email", "Name", "EMAIL"], ["07911 123456", "a@example.org", "Ada", "b@example.org"])

    # When it is uploaded
    job = services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)
    page = login(client, owner).get(reverse("consumers:import", args=[service_list.organisation_id, job.pk]))

    # Then the mapping step names both columns and the one used
    assert "Columns 2 and 4 are both called “Email”. We use column 2" in page.content.decode()


def test_a_utf16_file_without_a_byte_order_mark_is_read(service_list, owner):
    data = csv_bytes(["Name", "Phone"], ["Zoë", "07911 123456"], encoding="utf-16-le")

    job = run_import(service_list, owner, data)

    assert (job.encoding, job.created) == ("utf-16-le", 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Phone," + b"x" * 5_000_000, "The first line of the file runs on for more than 64 KB without a line break"),
        (
            csv_bytes(["Phone"], *[["07911 123456"]] * (SAMPLE_BYTES // 10)) + b"07911\x00123456\r\n",
            "contains a NUL byte",
        ),
    ],
    ids=["one 5 MB line", "NUL after the first 64 KB"],
)
def test_a_file_with_one_huge_line_or_a_nul_anywhere_is_refused_at_upload_and_nothing_is_stored(
    service_list, owner, data, message
):
    with pytest.raises(ImportFileError) as refused:
        services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)

    assert message in refused.value.messages[0]
    assert nothing_stored() and stored_files() == []


def test_the_nul_byte_message_names_its_line(service_list, owner):
    data = csv_bytes(["Phone"], *[["07911 123456"]] * 9000) + b"\x00\r\n"

    with pytest.raises(ImportFileError, match="Line 9,002 of the file contains a NUL byte"):
        services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)


# --- Marketing lists and discarding -------------------------------------------------


@pytest.mark.obligation("P49")
def test_a_marketing_list_is_refused_when_created_while_the_registers_are_missing(organisation, owner):
    with pytest.raises(ValidationError) as refused:
        services.contact_list_create(organisation=organisation, name="Offers", purpose="marketing", created_by=owner)

    assert "screened against the TPS and CTPS" in refused.value.message_dict["purpose"][0]
    assert not ContactList.objects.exists()


def test_discarding_asks_first_and_leaves_no_empty_list(organisation, owner, client):
    # Given a new list made from an upload, in the portal
    login(client, owner)
    data = csv_bytes(["Phone"], ["07911 123456"])
    client.post(
        reverse("consumers:list-new", args=[organisation.pk]),
        {"name": "Spring", "purpose": "service", "file": upload(data)},
    )
    job = ImportJob.objects.get()
    url = reverse("consumers:import-discard", args=[organisation.pk, job.pk])

    # When the client asks to discard it, then confirms
    asked = client.get(url)
    confirmed = client.post(url)

    # Then the first step only asks (saying the list goes too); the second leaves nothing behind
    assert asked.status_code == 200 and "is deleted too" in asked.content.decode()
    assert confirmed.status_code == 302
    assert not ImportJob.objects.exists() and not ContactList.objects.exists() and stored_files() == []


def test_discarding_an_upload_into_a_list_in_use_keeps_the_list(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    job = services.import_job_create(
        contact_list=service_list, upload=upload(csv_bytes(["Phone"], ["020 7946 0001"])), uploaded_by=owner
    )

    assert services.import_job_discard(job=job, by=owner) is False
    assert ContactList.objects.filter(pk=service_list.pk).exists()


def test_a_viewer_sees_the_problems_without_the_values_from_the_file(service_list, owner, teammate, client):
    job = run_import(service_list, owner, csv_bytes(["Phone"], ["0799 SECRET"]))

    page = login(client, teammate).get(reverse("consumers:import", args=[service_list.organisation_id, job.pk]))

    assert page.status_code == 200
    assert "Not imported" in page.content.decode() and "SECRET" not in page.content.decode()
