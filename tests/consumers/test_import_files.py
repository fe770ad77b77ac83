"""Every kind of file a client may upload: the encodings and delimiters we read, and the ones we refuse.

A refused file gets a clear reason and leaves nothing behind: no job, no stored
file, no consumer.
"""

import codecs
import os

import pytest
from django.conf import settings

from consumers import services
from consumers.csvfiles import ImportFileError
from consumers.models import ConsentRecord, Consumer, ImportJob, ImportProblem, ListMembership
from tests.consumers.conftest import csv_bytes, run_import, upload

HEADER = ["Name", "Phone", "Email"]
ADA = ["Zoë Ådahl-Łukasz", "07911 123456", "zoe@example.org"]
BOB = ["Bob Brown", "020 7946 0001", ""]


def stored_files() -> list[str]:
    found = []
    for folder, _, files in os.walk(settings.MEDIA_ROOT):
        found += [os.path.join(folder, f) for f in files]
    return found


def nothing_stored():
    return (
        not ImportJob.objects.exists()
        and not Consumer.objects.exists()
        and not ListMembership.objects.exists()
        and not ImportProblem.objects.exists()
        and not ConsentRecord.objects.exists()
    )


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + csv_bytes(HEADER, ADA, BOB), "utf-8-sig"),
        (csv_bytes(HEADER, ADA, BOB), "utf-8"),
        (csv_bytes(HEADER, ADA, BOB, encoding="utf-16"), "utf-16"),
        (csv_bytes(HEADER, ["Zoë Ådahl", "07911 123456", "zoe@example.org"], BOB, encoding="cp1252"), "cp1252"),
    ],
    ids=["utf-8 with BOM", "utf-8", "utf-16", "windows-1252"],
)
def test_each_encoding_is_read_and_names_survive(service_list, owner, data, encoding):
    job = run_import(service_list, owner, data)

    assert (job.status, job.encoding, job.created) == ("completed", encoding, 2)
    name = Consumer.objects.get(phone_index__matches="07911123456").name
    assert name.startswith("Zoë Ådahl")


def test_a_small_windows_1252_file_ending_in_an_accented_letter_is_read(service_list, owner):
    # Its last byte (é, 0xE9) also starts a UTF-8 character: only the end of
    # the whole file shows it is not UTF-8.
    job = run_import(service_list, owner, "Phone,Name\r\n07911 123456,José".encode("cp1252"))

    assert (job.status, job.encoding, job.created) == ("completed", "cp1252", 1)
    assert Consumer.objects.get().name == "José"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_each_delimiter_is_detected(service_list, owner, delimiter):
    job = run_import(
        service_list,
        owner,
        csv_bytes(HEADER, ["Smith, Ada", "07911 123456", ""], BOB, delimiter=delimiter)
        if delimiter != ","
        else csv_bytes(HEADER, ['"Smith, Ada"', "07911 123456", ""], BOB),
    )

    assert (job.delimiter, job.created, job.rejected) == (delimiter, 2, 0)
    assert Consumer.objects.get(phone_index__matches="07911123456").name == "Smith, Ada"


def test_a_single_column_file_is_a_csv_too(service_list, owner):
    job = run_import(service_list, owner, csv_bytes(["Mobile"], ["07911 123456"], ["07412 345678"]))
    assert job.created == 2


def test_blank_lines_are_skipped_but_row_numbers_match_the_spreadsheet(service_list, owner):
    job = run_import(service_list, owner, b"Phone\r\n\r\n07911 123456\r\n\r\nnot a number\r\n")

    assert job.created == 1
    assert list(job.problems.values_list("row_number", flat=True)) == [5]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \r\n\r\n", "The file holds no text."),
        (b"Name,Phone\r\n", "The file has a header row but no contacts under it."),
        (codecs.BOM_UTF8, "The file holds no text."),
        (codecs.BOM_UTF8 + b"Name,Phone\r\n", "The file has a header row but no contacts under it."),
        ("Name,Phone\r\n".encode("utf-16"), "The file has a header row but no contacts under it."),
        ("Phone\r\n07911123456\r\n".encode("utf-16") + b"\x00", "We cannot read the text in this file as UTF-16."),
        (
            b"PK\x03\x04\x14\x00\x06\x00workbook",
            "This is an Excel workbook or another zipped file (.xlsx, .zip), not a CSV file.",
        ),
        (b"%PDF-1.7\n", "This is a PDF document, not a CSV file."),
        (b"\x89PNG\r\n\x1a\n", "This is a PNG image, not a CSV file."),
        (b"Phone\x00\x01\x02\x03\xff", "Line 1 of the file contains a NUL byte (binary data)"),
        (b"Phone\r\n\x81\x8d\x8f\x90\x9d", "We cannot read the text in this file: it is not UTF-8, UTF-16 or Windows-1252."),
        (b"Phone\x07\r\n07911123456\r\n", "This is not a text file (it contains control characters)."),
        (
            b"07911 123456,Ada\r\n07412 345678,Bob\r\n",
            "The first row must hold the column names (such as Phone, Name, Email), but column 1",
        ),
        (b",,\r\n07911 123456,Ada,\r\n", "The first row must hold the column names (such as Phone, Name, Email), but column 1"),
    ],
    ids=[
        "empty",
        "whitespace",
        "header only",
        "BOM only",
        "BOM and header only",
        "utf-16 header only",
        "utf-16 cut in half",
        "xlsx",
        "pdf",
        "png",
        "binary",
        "undecodable",
        "control chars",
        "no header",
        "blank header",
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused_and_nothing_is_stored(service_list, owner, data, message):
    with pytest.raises(ImportFileError) as refused:
        services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)

    assert message in refused.value.messages[0]
    assert nothing_stored()
    assert stored_files() == []


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(service_list, owner, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 1000
    data = csv_bytes(["Phone"], *[["07911 123456"]] * 100)

    with pytest.raises(ImportFileError) as refused:
        services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)

    assert refused.value.messages == [
        "The file is 1.41 KB, more than the 1 KB limit. Split it into smaller files and upload each one."
    ]

    assert nothing_stored() and stored_files() == []


def _start(contact_list, owner, data):
    from consumers.rows import suggest_mapping

    job = services.import_job_create(contact_list=contact_list, upload=upload(data), uploaded_by=owner)
    services.import_job_start(job=job, mapping=suggest_mapping(job.columns), by=owner)
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_file_that_breaks_after_its_first_block_fails_whole_with_nothing_imported(service_list, owner):
    # The first 64 KB are valid UTF-8 (so the upload is accepted); a byte far
    # into the file is not. The whole file is read before any row is loaded.
    good = [["Ada", f"07911 {100000 + i}", ""] for i in range(5000)]
    data = csv_bytes(HEADER, *good) + b"Bad \xff\xfe row,07412 345678,\r\n"

    job = _start(service_list, owner, data)

    assert job.status == ImportJob.Status.FAILED, job.failure_reason
    assert job.failure_reason.startswith("Row 5,002 cannot be read: it is not valid UTF-8 text, though the start of the file is")
    assert not Consumer.objects.exists() and not ImportProblem.objects.exists()
    assert stored_files() == []  # the upload is deleted once the job ends


def test_an_unclosed_quote_fails_the_whole_file_with_the_row_number(service_list, owner):
    data = csv_bytes(HEADER, ADA, ['"Bob', "020 7946 0001", ""]) + (b"x" * 200_000) + b"\r\n"

    job = _start(service_list, owner, data)

    assert job.status == ImportJob.Status.FAILED
    assert "Row 3 cannot be read: a value runs on for more than 131,072 characters" in job.failure_reason
    assert 'an opening quote (") without its closing quote' in job.failure_reason
    assert not Consumer.objects.exists()


def test_discarding_an_upload_deletes_its_file(service_list, owner):
    job = services.import_job_create(contact_list=service_list, upload=upload(csv_bytes(HEADER, ADA)), uploaded_by=owner)
    assert len(stored_files()) == 1

    services.import_job_discard(job=job, by=owner)

    assert stored_files() == [] and not ImportJob.objects.exists()


def test_the_upload_is_deleted_once_imported(service_list, owner):
    run_import(service_list, owner, csv_bytes(HEADER, ADA))
    assert stored_files() == []
