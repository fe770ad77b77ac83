"""The sub-processor register (P20, P23) and the public page rendered from it: every provider the
running configuration uses is listed, and one the register lacks is flagged, never silently left out."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from compliance import records
from compliance.models import SubProcessor, TransferSafeguard
from nextsupport.storage import storages_setting
from tests.conftest import login

S3 = storages_setting(
    bucket="ns-files",
    recordings_bucket="ns-recordings",
    endpoint_url=None,
    region="eu-west-2",
    kms_key_id="",
    media_root=settings.MEDIA_ROOT,
    recordings_root=settings.RECORDINGS_ROOT,
    url_expiry=300,
) | {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SMTP = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "smtp.mailer.example"}}}
PRODUCTION_LIKE = {
    "TELEPHONY_PROVIDER": "twilio",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "secret",
    "STORAGES": S3,
    "MAILERS": SMTP,
    "GOOGLE_ANALYTICS_MEASUREMENT_ID": "G-TEST",
}


@pytest.mark.obligation("P20")
def test_in_use_is_read_from_the_configuration(db):
    assert records.services_in_use() == []  # tests: simulator, local files, locmem mail, no analytics

    with override_settings(**PRODUCTION_LIKE, CONVERSATION_LLM_URL="https://llm.example/v1/chat/completions"):
        found = {s.service: s.detail for s in records.services_in_use()}

    assert found == {
        "telephony:twilio": "Twilio",
        "storage:s3": "Amazon S3 eu-west-2",
        "email:smtp": "smtp.mailer.example",
        "analytics:google-analytics": "Google Analytics 4",
        "llm:chat-completions": "llm.example",
    }


@pytest.mark.obligation("P20", "P23")
def test_the_public_page_lists_every_provider_the_configuration_uses_with_its_safeguard(client, db):
    with override_settings(**PRODUCTION_LIKE):
        html = client.get("/sub-processors/").content.decode()

    assert ">Current sub-processors</h2>" in html
    for name in ("Twilio Ireland Limited", "Amazon Web Services EMEA SARL (Amazon S3)", "Google Ireland Limited"):
        assert name in html
    assert "EU SCCs with the UK Addendum" in html and "No transfer: stays in the UK" in html
    assert "Version 2, in force from 1 December 2026" in html


@pytest.mark.obligation("P20")
def test_a_provider_in_use_but_missing_from_the_register_is_listed_and_flagged(client, db, compliance_officer, capsys):
    with override_settings(CONVERSATION_LLM_URL="https://llm.example/v1/chat/completions"):
        html = client.get("/sub-processors/").content.decode()
        call_command("check", "--database", "default")
        login(client, compliance_officer)
        register = client.get("/admin/compliance/subprocessor/")

    assert "Language model for call conversations" in html  # the page never leaves it out
    assert "details we are adding to this list" in html
    assert "compliance.W001" in capsys.readouterr().err
    assert any("not in this register" in str(m) for m in register.context["messages"])


def test_providers_the_configuration_does_not_use_are_not_on_the_page(client, db):
    html = client.get("/sub-processors/").content.decode()

    assert "Twilio" not in html and "Google Ireland" not in html
    assert "Amazon Web Services EMEA SARL" in html  # hosting: declared, not a setting


def test_the_earlier_version_keeps_its_own_list(client, db):
    html = client.get("/sub-processors/version-1/").content.decode()

    assert "Version 1, in force from 28 November 2026" in html
    assert "This is an earlier version" in html


@pytest.mark.obligation("P23")
def test_every_seeded_transfer_outside_the_uk_names_its_safeguard(db):
    for processor in SubProcessor.objects.all():
        if "United States" in processor.location or "Ireland" in processor.location:
            assert processor.transfer_safeguard in (TransferSafeguard.SCCS_ADDENDUM, TransferSafeguard.IDTA)
        assert processor.dpa_status


def test_a_provider_in_use_cannot_leave_the_register(db, compliance_officer):
    from django.core.exceptions import ValidationError

    with override_settings(**PRODUCTION_LIKE), pytest.raises(ValidationError, match="in use"):
        records.subprocessor_remove(processor=SubProcessor.objects.get(service="telephony:twilio"), actor=compliance_officer)
