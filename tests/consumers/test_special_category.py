"""Special-category and criminal-offence columns (UK GDPR art. 9 and 10) are recognised
however a CRM or spreadsheet spells them, can never be mapped, and their values are
kept nowhere: not in the consumer record, not in the error report, not in the preview (P10)."""

import pytest
from django.core.exceptions import ValidationError

from consumers import services
from consumers.models import Consumer, ImportProblem
from consumers.rows import is_special_category, suggest_mapping
from tests.consumers.conftest import csv_bytes, run_import, upload

SPECIAL = [
    # health, in every shape a header takes
    "Health", "HealthCondition", "health_condition", "HEALTH-CONDITIONS", "mentalHealth", "Mental health", "mental",
    "medicalhistory", "Medical History", "med hist", "Meds", "Medication", "Rx", "Diagnosis", "diag", "Illnesses",
    "Disability", "disabled?", "Disab.", "Pregnant", "preg", "Allergies", "Symptoms", "Vaccination status",
    "covid_status", "HIV", "hivstatus", "NHS number", "NHSNumber", "nhsno", "GP surgery", "gpname", "BloodType",
    "blood group", "Wheelchair user", "Injuries", "Therapist", "Psychiatric notes", "Diabetic", "Cancer", "Patient ID",
    "Hospital", "Sick leave",
    # racial or ethnic origin
    "Race", "racecode", "Ethnicity", "ethnic_origin", "EthnicGroup", "Racial origin", "Skin colour", "caste",
    # political opinions
    "politics", "Political party", "PoliticalViews", "party affiliation", "Voting intention", "vote", "Polit. view",
    # religious or philosophical beliefs
    "Religion", "religious_beliefs", "Relig.", "Faith", "Beliefs", "Philosophical beliefs", "Church", "Denomination",
    # trade union membership
    "Trade union", "TradeUnionMember", "union member", "unionmembership", "Union",
    # genetic and biometric data
    "Genetic test", "DNA", "dnaResult", "Genome", "Biometric ID", "Fingerprint", "Voiceprint",
    # sex life and sexual orientation
    "Sexual orientation", "sexualOrientation", "Sexuality", "sex life", "SexLife", "LGBTQ+", "Orientation", "gay",
    # criminal convictions and offences (art. 10)
    "Criminal record", "criminalRecord", "Convictions", "Offences", "offenses", "Offender", "DBS check", "dbs_check",
    "CRB", "Arrests", "Prison number", "Probation officer", "crimes",
    # accents, full-width letters and punctuation, folded to the same letters
    "Religión", "".join(chr(ord(c) + 0xFEE0) for c in "HealthCondition"), "H.E.A.L.T.H", "  medical  ",
]  # fmt: skip

ORDINARY = [
    "Phone", "Phone number", "Telephone", "Mobile", "Name", "Full name", "First name", "Christian name", "Surname",
    "Email", "E-mail address", "Date of birth", "DOB", "Postcode", "Post code", "Time zone", "Consent date",
    "Consent reference", "CRM ID", "Record ID", "Company", "Job title", "Address line 1", "Town", "County", "Country",
    "Notes", "Source", "Opt-in date", "Customer number", "Account manager", "Preferred language", "Gender", "Sex",
    "Title", "Hospitality sector", "Supplemental info", "Metropolitan area", "Description", "Subscriber ID",
    "Grace period", "Trace ID", "Media source", "Marketing medium", "Offer code", "General notes", "Method",
    "Membership tier", "DX number", "GPS location", "Last contacted", "Reason for call", "Status",
]  # fmt: skip


@pytest.mark.obligation("P10")
@pytest.mark.parametrize("header", SPECIAL)
def test_a_special_category_header_is_recognised_however_it_is_written(header):
    assert is_special_category(header)


@pytest.mark.obligation("P10")
@pytest.mark.parametrize("header", ORDINARY)
def test_an_ordinary_contact_list_header_is_not_mistaken_for_special_category_data(header):
    assert not is_special_category(header)


@pytest.mark.obligation("P10")
@pytest.mark.parametrize(("header", "target"), [("HealthCondition", "name"), ("politics", "postcode"), ("mentalHealth", "name")])
def test_mapping_a_joined_or_camel_case_special_column_is_refused(service_list, owner, header, target):
    # Given an upload whose special-category column hides behind camelCase or joined words
    job = services.import_job_create(
        contact_list=service_list, upload=upload(csv_bytes(["Phone", header], ["07911 123456", "Asthma"])), uploaded_by=owner
    )

    # When the client maps it to an ordinary field anyway
    with pytest.raises(ValidationError) as refused:
        services.import_job_start(job=job, mapping={"0": "phone", "1": target}, by=owner)

    # Then the mapping is refused and nothing is imported
    assert f"{header!r} looks like special-category data" in refused.value.message_dict["mapping"][0]
    assert not Consumer.objects.exists()


@pytest.mark.obligation("P10")
def test_special_category_values_are_kept_nowhere(service_list, owner):
    # Given a file with health data and political opinions beside the contact details, one row of them bad
    data = csv_bytes(
        ["Phone", "Name", "medicalhistory", "politics", "HealthCondition"],
        ["07911 123456", "Ada Lovelace", "Type 1 diabetes", "Votes Green", "Asthma"],
        ["not a number", "Bob Bad", "Epilepsy", "Votes Red", "Migraine"],
    )
    job = services.import_job_create(contact_list=service_list, upload=upload(data), uploaded_by=owner)

    # When the client looks at the preview, takes the suggested mapping and imports
    preview = services.import_job_preview(job)
    mapping = suggest_mapping(job.columns)
    job = run_import(service_list, owner, data)

    # Then no special-category column was suggested, its values were not shown, and none was stored
    assert mapping == {"0": "phone", "1": "name"}
    assert [row[2:] for row in preview] == [["", "", ""], ["", "", ""]]
    secrets = ("diabetes", "Green", "Asthma", "Epilepsy", "Red", "Migraine")
    stored = [str({f.name: getattr(c, f.name) for f in Consumer._meta.concrete_fields}) for c in Consumer.objects.all()]
    reported = [str(p) for p in ImportProblem.objects.filter(job=job).values_list("column", "value", "reason")]
    assert stored and reported
    assert not [s for s in secrets if any(s in text for text in stored + reported)]
    assert {d["column"]: d["reason"] for d in job.dropped_columns} == {
        "medicalhistory": "special_category",
        "politics": "special_category",
        "HealthCondition": "special_category",
    }
