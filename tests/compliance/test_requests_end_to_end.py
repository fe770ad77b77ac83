"""The issue's "Must show": one person, two clients, access then erasure, end to end through the public form.

A consumer present in two organisations, with calls, a recording, consents and a
cookie-consent record, files an access request through the public form,
verifies, and the package holds every item; an erasure request then leaves
only what must be kept, the recording file is gone from storage, and a later
contact-list import of the same number is suppressed; the part belonging to the
clients goes to both clients' inboxes and is completed by them.
"""

import io
import json
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from campaigns.calls import _recording_aad
from campaigns.models import Call, Recording
from compliance import erasure
from compliance.models import DataSubjectRequest, RequestPart
from consumers.models import Consumer, Suppression
from cookies import consent_cookie
from cookies.models import ConsentRecord as CookieConsent
from nextsupport import crypto
from nextsupport.fields import digest
from nextsupport.models import AuditEvent
from tests.compliance.dsr import CommittingClient, emailed_code, submit, texted_code
from tests.conftest import login
from tests.consumers.conftest import csv_bytes, make_list, run_import
from tests.factories import CallFactory, ConsentRecordFactory, ConsumerFactory, RecordingFactory

pytestmark = pytest.mark.django_db
PHONE, EMAIL = "+447911123456", "sam.jones@home.example"
State = DataSubjectRequest.State


@pytest.fixture(autouse=True)
def _empty_erasure_log_copies():
    # The erasure log is copied to storage, which outlives the test's transaction.
    yield
    storage = storages[erasure.LOG_STORAGE]
    if storage.exists(erasure.LOG_COPIES):
        for name in storage.listdir(erasure.LOG_COPIES)[1]:
            storage.delete(f"{erasure.LOG_COPIES}/{name}")


@pytest.fixture
def person(organisation, other_organisation):
    """Sam, a consumer of both clients: calls with each, a stored recording, consents, and cookie choices."""
    calls = []
    for org in (organisation, other_organisation):
        consumer = ConsumerFactory(organisation=org, phone=PHONE, email=EMAIL, name=f"Sam Jones at {org.legal_name}")
        calls.append(CallFactory(organisation=org, contact__consumer=consumer, contact__campaign__organisation=org))
        ConsentRecordFactory(organisation=org, consumer=consumer)
    recording = RecordingFactory(organisation=organisation, call=calls[0])
    sealed = crypto.keyring().encrypt(b"RIFF-sam-says-hello", _recording_aad(recording))
    name = storages["recordings"].save(f"calls/{organisation.pk}/{recording.call_id}.bin", ContentFile(sealed))
    Recording.objects.filter(pk=recording.pk).update(status=Recording.Status.STORED, file=name)
    cookies = CookieConsent.objects.create(categories=["analytics"], policy_version=1, banner_version="b1", gpc=False)
    return {"calls": calls, "recording": Recording.objects.get(pk=recording.pk), "cookies": cookies}


def file_request(browser: CommittingClient, mailoutbox, kind: str) -> DataSubjectRequest:
    """Through the public form, then both codes, as Sam would."""
    assert submit(browser, kind=kind, phone="07911 123456", email=EMAIL, cookies="on").status_code == 302
    browser.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, EMAIL)})
    proved = browser.post("/your-rights/verify/", {"code": texted_code(PHONE)})
    dsr = DataSubjectRequest.objects.order_by("-pk").first()
    assert proved["Location"] == f"/your-rights/requests/{dsr.reference}/"
    return dsr


def answer_in_portal(owner, org, dsr, answer: str) -> None:
    part = dsr.parts.get(organisation=org)
    portal = login(CommittingClient(), owner)
    inbox = portal.get(f"/app/o/{org.pk}/data-requests/").content.decode()
    assert dsr.reference in inbox
    assert portal.post(f"/app/o/{org.pk}/data-requests/{part.pk}/", {"answer": answer, "note": ""}).status_code == 302


def download(browser, dsr) -> zipfile.ZipFile:
    page = browser.get(f"/your-rights/requests/{dsr.reference}/").content.decode()
    [link] = re.findall(r'href="(/your-rights/requests/[^"]+/download/[^"]+/)"', page)
    response = browser.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.obligation("P35", "P37", "P39", "P43", "P14", "P54")
def test_access_then_erasure_end_to_end(
    person, organisation, other_organisation, owner, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    browser = CommittingClient()
    browser.cookies[consent_cookie.NAME] = consent_cookie.value(person["cookies"])

    # --- access: the package holds every item, for both clients and ourselves ---
    access = file_request(browser, mailoutbox, "access")
    assert access.state == State.AWAITING_CLIENT
    package = download(browser, access)
    names = package.namelist()
    data = json.loads(package.read("data.json"))
    text = json.dumps(data)
    assert text.count("Sam Jones at") == 2  # the consumer record in each organisation
    for needle in ("Acme Energy Ltd", "Rival Telecom plc", str(person["cookies"].consent_id)):
        assert needle in text
    assert any(name.endswith(".csv") for name in names)
    assert any(package.read(name) == b"RIFF-sam-says-hello" for name in names)  # the recording itself
    summary = next(package.read(n).decode() for n in names if "summary" in n.lower() or "readme" in n.lower())
    assert "compliance@nextsupport.co.uk" in summary and "ico.org.uk" in summary.lower()
    assert AuditEvent.objects.filter(action="compliance.request_package_downloaded", target_id=str(access.pk)).exists()
    assert not any(m.attachments for m in mailoutbox)  # never attached to an e-mail

    # both clients see the request in their own inbox and complete it
    answer_in_portal(owner, organisation, access, "done")
    answer_in_portal(outsider, other_organisation, access, "done")
    access.refresh_from_db()
    assert access.state == State.COMPLETED

    # --- erasure: NextSupport's own part at once; each client asks us to do theirs ---
    erasure = file_request(browser, mailoutbox, "erasure")
    assert erasure.state == State.AWAITING_CLIENT
    assert set(erasure.parts.values_list("organisation_id", flat=True)) == {organisation.pk, other_organisation.pk}
    assert not CookieConsent.objects.filter(consent_id=person["cookies"].consent_id).exists()
    answer_in_portal(owner, organisation, erasure, "delegate")
    answer_in_portal(outsider, other_organisation, erasure, "delegate")
    erasure.refresh_from_db()
    assert erasure.state == State.COMPLETED
    assert set(erasure.parts.values_list("state", flat=True)) == {RequestPart.State.DELEGATED}

    # only what must be kept remains: the suppression (a blind index) and the consent evidence
    assert not Consumer.objects.filter(phone_index=digest("phone", PHONE)).exists()
    assert not Call.objects.filter(phone_index=digest("phone", PHONE)).exists()
    assert not Recording.objects.filter(pk=person["recording"].pk).exists()
    assert not storages["recordings"].exists(person["recording"].file)
    assert Suppression.objects.filter(phone_index=digest("phone", PHONE)).exists()
    page = browser.get(f"/your-rights/requests/{erasure.reference}/").content.decode()
    assert "kept" in page.lower() and "ico.org.uk" in page  # the receipt says what was kept, and why

    # a later import of the same number by either client is suppressed
    contact_list = make_list(organisation, owner)
    with django_capture_on_commit_callbacks(execute=True):
        job = run_import(contact_list, owner, csv_bytes(["Name", "Phone"], ["Sam Jones", "07911 123456"]))
    assert job.suppressed == 1
    assert not Consumer.objects.filter(phone_index=digest("phone", PHONE)).exists()
