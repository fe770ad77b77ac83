"""Helpers for the consumers tests: lists, uploads, registers, and running an import end to end."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from consumers import services
from consumers.models import ContactList, ImportJob, LawfulBasisAttestation

ATTESTATION = "Our customers gave us their numbers when they signed their energy contract with us."


def csv_bytes(*rows, encoding="utf-8", delimiter=",") -> bytes:
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    return text.encode(encoding)


def upload(data: bytes, name="contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def make_list(organisation, owner, *, purpose=ContactList.Purpose.SERVICE, name="Customers", attest=True) -> ContactList:
    contact_list = services.contact_list_create(organisation=organisation, name=name, purpose=purpose, created_by=owner)
    if attest:
        basis = (
            LawfulBasisAttestation.Basis.CONSENT
            if purpose == ContactList.Purpose.MARKETING
            else LawfulBasisAttestation.Basis.CONTRACT
        )
        services.contact_list_attest(contact_list=contact_list, basis=basis, wording=ATTESTATION, by=owner)
    return contact_list


def load_registers(*numbers, tps_date=None, ctps_numbers=()):
    """Load a TPS file with `numbers` and a CTPS file with `ctps_numbers`, both dated `tps_date` (today)."""
    file_date = tps_date or timezone.localdate()
    services.screening_register_load(
        kind="tps", file_date=file_date, stream=io.BytesIO("\n".join(numbers).encode()), imported_by="test"
    )
    services.screening_register_load(
        kind="ctps", file_date=file_date, stream=io.BytesIO("\n".join(ctps_numbers).encode()), imported_by="test"
    )


MARKETING_CONSENT = {
    "consent_purposes": ["marketing_calls", "automated_calls"],
    "consent_wording_version": "web-optin-v3",
}


def run_import(contact_list, owner, data: bytes, mapping=None, **start) -> ImportJob:
    """Upload `data` into `contact_list`, map it (the suggested mapping unless given) and run the import to the end."""
    from consumers.rows import suggest_mapping

    job = services.import_job_create(contact_list=contact_list, upload=upload(data), uploaded_by=owner)
    if contact_list.is_marketing:
        start = {**MARKETING_CONSENT, **start}
    services.import_job_start(job=job, mapping=mapping or suggest_mapping(job.columns), by=owner, **start)
    assert services.import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


@pytest.fixture
def service_list(organisation, owner):
    return make_list(organisation, owner)


@pytest.fixture
def marketing_list(organisation, owner):
    load_registers()
    return make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING, name="Spring offers")


def years_ago(years: int, days: int = 0) -> str:
    today = timezone.localdate()
    return (today.replace(year=today.year - years) - datetime.timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Each test its own upload folder, so "no file is left behind" is about this test's files only."""
    media = tmp_path / "media"
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], "location": media}}}
    settings.MEDIA_ROOT = media
    return media
