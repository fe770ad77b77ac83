"""What an import keeps, rejects, de-duplicates and reports."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from consumers import services
from consumers.models import ConsentRecord, Consumer, ContactList, ImportJob, ImportProblem, ListMembership, Suppression
from consumers.rows import suggest_mapping
from nextsupport.fields import digest
from tests.consumers.conftest import ATTESTATION, csv_bytes, load_registers, make_list, run_import, upload


def problems(job) -> list[tuple]:
    return list(job.problems.order_by("row_number").values_list("row_number", "column", "reason"))


@pytest.mark.obligation("P24")
def test_rows_are_normalised_and_stored_encrypted(service_list, owner):
    job = run_import(
        service_list,
        owner,
        csv_bytes(
            ["First name", "Surname", "Telephone", "E-mail", "DOB", "Post code", "Time zone"],
            [" Ada ", "Lovelace", "(020) 7946 0123", " Ada@Example.org ", "10/12/1985", "ls14ap", "Europe/London"],
        ),
    )

    ada = Consumer.objects.get()
    assert (job.created, job.rejected) == (1, 0)
    assert (ada.name, ada.phone, ada.email, ada.date_of_birth, ada.postcode, ada.timezone) == (
        "Ada Lovelace",
        "+442079460123",
        "Ada@Example.org",
        datetime.date(1985, 12, 10),
        "LS1 4AP",
        "Europe/London",
    )
    assert ada.source_list == service_list and ada.organisation == service_list.organisation
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, email, date_of_birth, postcode FROM consumers_consumer")
        stored = b"".join(bytes(v) for v in cursor.fetchone())
    for plain in [b"Ada", b"Lovelace", b"7946", b"example", b"1985", b"LS1"]:
        assert plain not in stored


@pytest.mark.obligation("P10")
def test_only_mapped_columns_are_kept_and_the_client_is_told_what_was_dropped(service_list, owner):
    job = run_import(
        service_list,
        owner,
        csv_bytes(
            ["Phone", "Notes", "Health conditions", "Ethnicity"], ["07911 123456", "Call after 5pm", "Asthma", "White British"]
        ),
    )

    assert job.dropped_columns == [
        {"column": "Notes", "reason": "not_needed"},
        {"column": "Health conditions", "reason": "special_category"},
        {"column": "Ethnicity", "reason": "special_category"},
    ]
    ada = Consumer.objects.get()
    kept = {f.name: getattr(ada, f.name) for f in Consumer._meta.concrete_fields}
    assert not any(secret in str(kept) for secret in ("Call after 5pm", "Asthma", "White British"))
    assert not job.file  # the upload, which held those columns, is gone


@pytest.mark.obligation("P10")
def test_a_special_category_column_cannot_be_mapped_even_deliberately(service_list, owner):
    job = services.import_job_create(
        contact_list=service_list, upload=upload(csv_bytes(["Phone", "Religion"], ["07911 123456", "Quaker"])), uploaded_by=owner
    )

    with pytest.raises(ValidationError) as refused:
        services.import_job_start(job=job, mapping={"0": "phone", "1": "name"}, by=owner)

    assert refused.value.message_dict["mapping"] == [
        "'Religion' looks like special-category data (health, beliefs, ethnicity...); it cannot be imported."
    ]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED and not Consumer.objects.exists()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"0": "name"}, "Choose the column that holds the phone number."),
        ({"0": "phone", "1": "phone"}, "Only one column can be the phone number."),
        ({"0": "phone", "1": "favourite_colour"}, "'Name' is mapped to 'favourite_colour', which is not a field we import."),
        ({"0": "phone", "7": "name"}, "Column 7 does not exist in the file."),
        ({"0": "phone", "²": "name"}, "Column ² does not exist in the file."),
        ({"0": "phone", "01": "name"}, "Column 01 does not exist in the file."),
        ({"0": "phone", "1": "consent_given_at"}, "Consent columns apply to marketing lists only; set them to “Don't import”."),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_and_nothing_starts(service_list, owner, mapping, message):
    job = services.import_job_create(
        contact_list=service_list, upload=upload(csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"])), uploaded_by=owner
    )

    with pytest.raises(ValidationError) as refused:
        services.import_job_start(job=job, mapping=mapping, by=owner)

    assert message in refused.value.message_dict["mapping"]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED and not Consumer.objects.exists()


@pytest.mark.obligation("P19")
def test_a_list_without_an_attested_lawful_basis_cannot_be_imported_into(organisation, owner):
    contact_list = make_list(organisation, owner, attest=False)
    job = services.import_job_create(
        contact_list=contact_list, upload=upload(csv_bytes(["Phone"], ["07911 123456"])), uploaded_by=owner
    )

    with pytest.raises(ValidationError) as refused:
        services.import_job_start(job=job, mapping={"0": "phone"}, by=owner)

    assert refused.value.message_dict["attestation"] == ["Attest the lawful basis for this list before importing into it."]
    assert not Consumer.objects.exists()


@pytest.mark.obligation("P17", "P19")
def test_the_attestation_keeps_who_when_and_their_words(organisation, owner):
    contact_list = make_list(organisation, owner, attest=False)

    attestation = services.contact_list_attest(
        contact_list=contact_list,
        basis="legitimate_interests",
        wording="  Customers who bought a boiler from us in 2025.  ",
        by=owner,
    )

    assert (attestation.attested_by, attestation.basis, attestation.wording) == (
        owner,
        "legitimate_interests",
        "Customers who bought a boiler from us in 2025.",
    )
    assert attestation.attested_at is not None
    with pytest.raises(PermissionError):
        attestation.save()


@pytest.mark.obligation("P17")
def test_an_attestation_needs_real_words_and_marketing_needs_consent(organisation, owner):
    load_registers()
    contact_list = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING, attest=False)

    with pytest.raises(ValidationError) as refused:
        services.contact_list_attest(contact_list=contact_list, basis="contract", wording="yes", by=owner)

    assert set(refused.value.message_dict) == {"basis", "wording"}
    assert "Marketing calls need the person's consent" in refused.value.message_dict["basis"][0]


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (["", "Ada", "", "", ""], "Phone", None, "No phone number."),
        (["12345", "Ada", "", "", ""], "Phone", "12345", "Not a valid number for its country."),
        (["not known", "Ada", "", "", ""], "Phone", "not known", "Not a phone number."),
        (["7.91112E+09", "Ada", "", "", ""], "Phone", "7.91112E+09", "formula number"),
        (
            ["07911 123456", "Ada", "", "31/02/1980", ""],
            "Date of birth",
            "31/02/1980",
            "Not a date: use DD/MM/YYYY or YYYY-MM-DD.",
        ),
        (["07911 123456", "Ada", "", "02/03/80", ""], "Date of birth", "02/03/80", "Not a date"),
        (["07911 123456", "Ada", "", "01/01/2999", ""], "Date of birth", "01/01/2999", "The date of birth is in the future."),
        (["07911 123456", "Ada", "", "01/01/1850", ""], "Date of birth", "01/01/1850", "The date of birth is before 1900."),
    ],
    ids=[
        "no phone",
        "short phone",
        "words",
        "spreadsheet number",
        "31 Feb",
        "two-digit year",
        "future birth",
        "before 1900",
    ],
)
def test_each_invalid_value_rejects_its_row_with_row_column_value_and_reason(service_list, owner, row, column, value, reason):
    header = ["Phone", "Name", "Email", "Date of birth", "Postcode"]
    job = run_import(service_list, owner, csv_bytes(header, ["020 7946 0001", "Bob", "", "", ""], row))

    assert (job.created, job.rejected) == (1, 1)
    problem = job.problems.get()
    assert (problem.row_number, problem.column, problem.value) == (3, column, value)
    assert reason in problem.reason
    assert Consumer.objects.count() == 1


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (["07911 123456", "Ada", "ada@", "", ""], "Email", "ada@", "Not a valid e-mail address."),
        (["07911 123456", "Ada", "", "", "NOT A CODE"], "Postcode", "NOT A CODE", "Not a UK postcode."),
        (["07911 123456", "A" * 201, "", "", ""], "Name", None, "The name is longer than 200 characters."),
    ],
    ids=["email", "postcode", "long name"],
)
def test_a_bad_optional_value_is_left_out_with_a_warning_and_the_person_kept(service_list, owner, row, column, value, reason):
    # Given a file whose second person has one bad value in an optional column
    header = ["Phone", "Name", "Email", "Date of birth", "Postcode"]

    # When it is imported
    job = run_import(service_list, owner, csv_bytes(header, ["020 7946 0001", "Bob", "", "", ""], row))

    # Then both people are imported, the second without that value, and the report says so
    assert (job.created, job.rejected, job.warnings) == (2, 0, 1)
    problem = job.problems.get()
    assert (problem.row_number, problem.column, problem.value, problem.kept) == (3, column, value, True)
    assert reason in problem.reason
    kept = Consumer.objects.get(phone_index__matches="07911 123456")
    assert getattr(kept, column.lower()) is None  # the consumer field of the same name


def test_internationalised_email_addresses_are_imported(service_list, owner):
    # Given a CRM export with UTF-8 local parts and an IDN domain
    rows = [["07911 123456", "zoë.brown0@example.co.uk"], ["020 7946 0001", "josé@bücher.example"]]

    # When it is imported
    job = run_import(service_list, owner, csv_bytes(["Phone", "Email"], *rows))

    # Then everyone is imported with their address, and it can be found again
    assert (job.created, job.rejected, job.warnings) == (2, 0, 0)
    assert sorted(Consumer.objects.values_list("email", flat=True)) == ["josé@bücher.example", "zoë.brown0@example.co.uk"]
    assert Consumer.objects.filter(email_index=digest("email", "ZOË.Brown0@example.co.uk")).exists()


def test_a_row_with_more_values_than_columns_is_rejected_but_short_rows_are_padded(service_list, owner):
    job = run_import(service_list, owner, b"Phone,Name\r\n07911 123456,Ada,extra\r\n020 7946 0001\r\n")

    assert (job.created, job.rejected) == (1, 1)
    assert problems(job) == [(2, "", "The row has 3 values but the header has 2 columns: check for a stray delimiter or quote.")]


def test_the_same_number_twice_in_a_file_is_imported_once(service_list, owner):
    job = run_import(
        service_list,
        owner,
        csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"], ["+44 7911 123456", "Ada again"], ["0044 7911 123 456", "Ada 3"]),
    )

    assert (job.created, job.duplicates, job.rejected) == (1, 2, 0)
    assert Consumer.objects.get().name == "Ada"  # the first row wins
    assert problems(job) == [
        (3, "Phone", "Same phone number as row 2: imported once."),
        (4, "Phone", "Same phone number as row 2: imported once."),
    ]


def test_duplicates_across_chunks_are_found_without_remembering_the_file(service_list, owner, settings):
    settings.CONTACT_IMPORT_CHUNK_ROWS = 2
    rows = [
        ["07911 123456", "Ada"],
        ["020 7946 0001", "Bob"],
        ["07412 345678", "Cy"],
        ["+447911123456", "Ada dup"],
        ["02079460001", "Bob dup"],
    ]

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name"], *rows))

    assert (job.created, job.updated, job.duplicates) == (3, 0, 2)
    assert problems(job) == [
        (5, "Phone", "Same phone number as an earlier row: imported once."),
        (6, "Phone", "Same phone number as an earlier row: imported once."),
    ]
    assert sorted(Consumer.objects.values_list("name", flat=True)) == ["Ada", "Bob", "Cy"]


def test_a_re_import_updates_people_instead_of_duplicating_them(organisation, owner):
    first = make_list(organisation, owner, name="Spring")
    run_import(first, owner, csv_bytes(["Phone", "Name", "Email"], ["07911 123456", "Ada", "ada@example.org"]))
    second = make_list(organisation, owner, name="Summer")

    job = run_import(
        second, owner, csv_bytes(["Phone", "Name", "Email"], ["+447911123456", "Ada Lovelace", ""], ["020 7946 0001", "Bob", ""])
    )

    assert (job.created, job.updated, job.duplicates) == (1, 1, 0)
    ada = Consumer.objects.get(phone_index__matches="07911123456")
    assert (ada.name, ada.email) == ("Ada Lovelace", "ada@example.org")  # a blank cell keeps what we had
    assert ada.source_list == first
    assert set(ada.memberships.values_list("contact_list__name", flat=True)) == {"Spring", "Summer"}
    assert Consumer.objects.count() == 2


def test_importing_the_same_file_twice_into_one_list_changes_nothing_but_the_figures(service_list, owner):
    data = csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"], ["020 7946 0001", "Bob"])
    run_import(service_list, owner, data)

    again = run_import(service_list, owner, data)

    assert (again.created, again.updated) == (0, 2)
    assert Consumer.objects.count() == 2 and ListMembership.objects.count() == 2


@pytest.mark.obligation("P04", "P05")
def test_the_same_person_in_two_clients_lists_is_two_unrelated_records(service_list, owner, other_organisation, outsider):
    theirs = make_list(other_organisation, outsider)
    run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"]))

    job = run_import(theirs, outsider, csv_bytes(["Phone", "Name"], ["07911 123456", "Mrs A. Lovelace"]))

    assert job.created == 1  # not an update of the first client's record
    ours, rivals = Consumer.objects.order_by("organisation_id")
    assert (ours.name, rivals.name) == ("Ada", "Mrs A. Lovelace")
    assert ours.organisation != rivals.organisation


@pytest.mark.obligation("P40")
def test_numbers_on_the_do_not_call_list_are_not_imported(service_list, owner, organisation):
    services.suppression_add(phone="07911 123456", organisation=organisation, reason="opt_out", source="client_request")
    services.suppression_add(phone="07412 345678", reason="opt_out", source="web_opt_out")  # asked NextSupport itself

    job = run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"], ["07412 345678"], ["020 7946 0001"]))

    assert (job.created, job.suppressed) == (1, 2)
    assert [p.value for p in job.problems.all()] == [None, None]  # the numbers are not written into the report
    assert {p.reason for p in job.problems.all()} == {
        "On the do-not-call list: this person asked not to be called. Not imported."
    }
    assert list(Consumer.objects.values_list("phone", flat=True)) == ["+442079460001"]


@pytest.mark.obligation("P04")
def test_another_clients_do_not_call_list_does_not_apply_to_us(service_list, owner, other_organisation):
    services.suppression_add(phone="07911 123456", organisation=other_organisation, reason="opt_out", source="client_request")

    job = run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))

    assert (job.created, job.suppressed) == (1, 0)


@pytest.mark.obligation("P24")
def test_invalid_values_in_the_error_report_are_encrypted_at_rest(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone"], ["0799 SECRET"]))

    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM consumers_importproblem")
        assert b"SECRET" not in bytes(cursor.fetchone()[0])
    assert ImportProblem.objects.get().value == "0799 SECRET"


# --- Marketing lists --------------------------------------------------------------


MARKETING_HEADER = ["Phone", "Name", "Opt-in date", "CRM ID"]


@pytest.mark.obligation("P14", "P18")
def test_a_marketing_import_writes_the_consent_evidence_into_the_ledger(marketing_list, owner):
    job = run_import(
        marketing_list,
        owner,
        csv_bytes(
            MARKETING_HEADER, ["07911 123456", "Ada", "05/01/2026 14:30", "CRM-1"], ["020 7946 0001", "Bob", "2026-01-06", ""]
        ),
        mapping={"0": "phone", "1": "name", "2": "consent_given_at", "3": "consent_reference"},
        consent_wording="Yes, NextSupport may call me with offers from Acme Energy, including automated calls.",
    )

    assert job.created == 2
    ada = Consumer.objects.get(phone_index__matches="07911123456")
    entries = ConsentRecord.objects.filter(consumer=ada).order_by("purpose")
    assert [(e.purpose, e.action, e.method, e.source_reference, e.wording_version) for e in entries] == [
        ("automated_calls", "given", "crm_import", "CRM-1", "web-optin-v3"),
        ("marketing_calls", "given", "crm_import", "CRM-1", "web-optin-v3"),
    ]
    assert entries[0].occurred_at.isoformat() == "2026-01-05T14:30:00+00:00"
    assert entries[0].wording.startswith("Yes, NextSupport may call me")
    assert entries[0].organisation == marketing_list.organisation and entries[0].import_job_id == job.pk
    bob = ConsentRecord.objects.filter(phone_index=digest("phone", "020 7946 0001")).first()
    assert bob.source_reference == "contacts.csv, row 3"


@pytest.mark.obligation("P18")
@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        ("", "No consent date: every row of a marketing list needs the date the person consented to calls."),
        ("last spring", "Not a date: use DD/MM/YYYY or YYYY-MM-DD, optionally with a time (HH:MM)."),
        ("01/01/2999", "The consent date is in the future."),
        ("2026-01-05 25:61", "Not a valid time of day."),
        ("2026-01-05 10:00+25:00", "Not a valid time zone offset: use one such as +01:00, or none for UK time."),
        ("2026-01-05 10:00-1299", "Not a valid time zone offset: use one such as +01:00, or none for UK time."),
    ],
)
def test_a_marketing_row_without_usable_consent_evidence_is_rejected(marketing_list, owner, consent, reason):
    job = run_import(
        marketing_list,
        owner,
        csv_bytes(MARKETING_HEADER, ["07911 123456", "Ada", consent, ""]),
        mapping={"0": "phone", "1": "name", "2": "consent_given_at"},
    )

    assert (job.created, job.rejected) == (0, 1)
    assert problems(job) == [(2, "Opt-in date", reason)]
    assert not ConsentRecord.objects.exists()


def test_a_consent_time_with_an_offset_is_read_in_that_offset(marketing_list, owner):
    run_import(
        marketing_list,
        owner,
        csv_bytes(MARKETING_HEADER, ["07911 123456", "Ada", "2026-01-05T14:30+01:00", ""]),
        mapping={"0": "phone", "1": "name", "2": "consent_given_at"},
    )

    assert {e.occurred_at.isoformat() for e in ConsentRecord.objects.all()} == {"2026-01-05T13:30:00+00:00"}


def test_a_marketing_import_needs_a_consent_column_purposes_and_wording(marketing_list, owner):
    job = services.import_job_create(
        contact_list=marketing_list, upload=upload(csv_bytes(["Phone"], ["07911 123456"])), uploaded_by=owner
    )

    with pytest.raises(ValidationError) as refused:
        services.import_job_start(job=job, mapping={"0": "phone"}, consent_purposes=["marketing_calls"], by=owner)

    errors = refused.value.message_dict
    assert errors["mapping"] == ["A marketing list needs the column with the date each person consented to calls."]
    assert errors["consent_purposes"] == [
        "Our calls are made by an AI: marketing lists need consent to marketing calls and to automated calls."
    ]
    assert errors["consent_wording"] == ["Give the consent wording the people agreed to, or its version in your CRM."]


@pytest.mark.obligation("P49")
def test_a_marketing_import_is_refused_until_both_registers_are_loaded(organisation, owner):
    # A list made before the rule below refused it: creating one is refused now.
    contact_list = ContactList.objects.create(organisation=organisation, name="Offers", purpose=ContactList.Purpose.MARKETING)
    services.contact_list_attest(contact_list=contact_list, basis="consent", wording=ATTESTATION, by=owner)
    job = services.import_job_create(
        contact_list=contact_list,
        upload=upload(csv_bytes(MARKETING_HEADER, ["07911 123456", "Ada", "2026-01-05", ""])),
        uploaded_by=owner,
    )

    with pytest.raises(ValidationError) as refused:
        services.import_job_start(
            job=job,
            mapping=suggest_mapping(job.columns) | {"2": "consent_given_at"},
            consent_purposes=["marketing_calls", "automated_calls"],
            consent_wording_version="v1",
            by=owner,
        )

    assert (
        "has not loaded: Telephone Preference Service (TPS), Corporate Telephone Preference Service (CTPS)"
        in (refused.value.message_dict["screening"][0])
    )


@pytest.mark.obligation("P49")
def test_numbers_on_the_tps_or_ctps_are_left_out_of_a_marketing_list(organisation, owner):
    load_registers("07911123456", ctps_numbers=["02079460001"])
    contact_list = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING)

    job = run_import(
        contact_list,
        owner,
        csv_bytes(
            MARKETING_HEADER,
            ["07911 123456", "Ada", "2026-01-05", ""],
            ["020 7946 0001", "Bob Ltd", "2026-01-05", ""],
            ["07412 345678", "Cy", "2026-01-05", ""],
        ),
        mapping={"0": "phone", "1": "name", "2": "consent_given_at"},
    )

    assert (job.created, job.screened_out) == (1, 2)
    assert {p.reason for p in job.problems.all()} == {"Registered with the TPS or CTPS: not imported into a marketing list."}
    contact_list.refresh_from_db()
    assert contact_list.screened_at is not None and contact_list.screened_register_date is not None


def test_tps_registration_does_not_affect_a_customer_service_list(service_list, owner):
    load_registers("07911123456")

    job = run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))

    assert (job.created, job.screened_out) == (1, 0)


@pytest.mark.obligation("P14")
def test_re_importing_the_same_consent_evidence_adds_no_ledger_entries(marketing_list, owner):
    data = csv_bytes(MARKETING_HEADER, ["07911 123456", "Ada", "2026-01-05", ""])
    mapping = {"0": "phone", "1": "name", "2": "consent_given_at"}
    run_import(marketing_list, owner, data, mapping=mapping)
    run_import(marketing_list, owner, data, mapping=mapping)

    assert ConsentRecord.objects.count() == 2  # one per purpose, not two


def test_the_suppression_list_itself_never_holds_the_number(organisation):
    entry = services.suppression_add(phone="07911 123456", organisation=organisation, reason="opt_out", source="client_request")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consumers_suppression")
        row = cursor.fetchone()
    assert not any(isinstance(v, str) and "7911" in v for v in row)
    assert bytes(entry.phone_index) == digest("phone", "+447911123456")
    assert Suppression.objects.filter(phone_index__matches="07911123456").exists()
    with pytest.raises(ValueError, match="takes a 32-byte digest"):
        Suppression.objects.create(
            organisation=organisation, phone_index="07412345678", reason="opt_out", source="client_request"
        )


# --- Clearing details on re-import (P36) ---


@pytest.mark.obligation("P36")
def test_a_reimport_clears_empty_details_only_when_asked(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone", "Name", "Email"], ["07911 123456", "Ada", "ada@example.org"]))
    again = csv_bytes(["Phone", "Name", "Email"], ["07911 123456", "Ada", ""])

    run_import(service_list, owner, again)
    kept = Consumer.objects.get(phone_index__matches="07911123456")
    run_import(service_list, owner, again, clear_empty=True)
    cleared = Consumer.objects.get(phone_index__matches="07911123456")

    assert kept.email == "ada@example.org"
    assert (cleared.email, cleared.email_index, cleared.name) == (None, None, "Ada")


@pytest.mark.obligation("P36")
def test_an_invalid_value_or_a_column_not_in_the_file_never_clears_anything(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone", "Name", "Email"], ["07911 123456", "Ada", "ada@example.org"]))

    run_import(service_list, owner, csv_bytes(["Phone", "Email"], ["07911 123456", "not an address"]), clear_empty=True)

    consumer = Consumer.objects.get(phone_index__matches="07911123456")
    assert (consumer.name, consumer.email) == ("Ada", "ada@example.org")
