"""One person held in every part of the system: the subject of the discovery, package and erasure tests."""

import uuid
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from accounts.models import Role
from compliance.models import Enquiry
from consumers.models import ListMembership
from cookies.models import ConsentRecord as CookieConsent
from nextsupport import crypto, privacy
from nextsupport.fields import digest
from tests.factories import (
    CallFactory,
    ConsentRecordFactory,
    ConsumerFactory,
    ContactListFactory,
    MembershipFactory,
    OrganisationFactory,
    RecordingFactory,
    SuppressionFactory,
)

PHONE = "+447911200300"
EMAIL = "ada@home.example"
AUDIO = b"RIFF....WAVEfmt the recorded call"


@dataclass
class Person:
    subject: privacy.Subject
    first: object  # the two client organisations that hold her as a consumer
    second: object
    consumers: list
    calls: list
    recording: object
    user: object
    cookie_consent_id: uuid.UUID


def store_recording(recording, audio: bytes = AUDIO):
    """The recording's audio, encrypted into the recordings storage as campaigns.calls stores it."""
    sealed = crypto.keyring().encrypt(audio, f"campaigns.recording.{recording.pk}".encode())
    name = storages["recordings"].save(f"calls/{recording.organisation_id}/{recording.pk}.bin", ContentFile(sealed))
    type(recording).objects.filter(pk=recording.pk).update(status="stored", file=name, content_type="audio/wav")
    recording.refresh_from_db()
    return recording


def make_person(phone: str = PHONE, email: str = EMAIL, *, first=None, second=None) -> Person:
    first = first or OrganisationFactory(legal_name="Acme Energy Ltd")
    second = second or OrganisationFactory(legal_name="Bright Broadband plc")
    consumers, calls = [], []
    for organisation in (first, second):
        call = CallFactory(organisation=organisation, contact__consumer__phone=phone, contact__consumer__email=email)
        consumer = call.consumer
        consumers.append(consumer)
        calls.append(call)
        ListMembership.objects.create(contact_list=ContactListFactory(organisation=organisation), consumer=consumer)
        ConsentRecordFactory(organisation=organisation, consumer=consumer)
    recording = store_recording(RecordingFactory(organisation=first, call=calls[0]))
    SuppressionFactory(organisation=second, phone_index=digest("phone", phone))
    # She is also a client user (a sole trader) and her own organisation's billing contact.
    own = OrganisationFactory(legal_name="Ada Lovelace Consulting", billing_email=email, billing_contact_name="Ada L")
    user = MembershipFactory(organisation=own, role=Role.OWNER, user__email=email).user
    Enquiry.objects.create(name="Ada", email=email, subject="My data", message="What do you hold about me?")
    consent_id = uuid.uuid4()
    CookieConsent.objects.create(
        consent_id=consent_id, categories=["analytics"], policy_version=1, banner_version="b1", gpc=False
    )
    subject = privacy.Subject(phone=phone, email=email, cookie_consent_id=str(consent_id))
    return Person(subject, first, second, consumers, calls, recording, user, consent_id)


@pytest.fixture
def person(db):
    return make_person()


@pytest.fixture
def stranger(db):
    """Someone else, in the same organisations' data: nothing of theirs may be found or erased."""
    return ConsumerFactory(phone="+447911200399", email="bob@home.example")


# --- Data-subject requests (tests/compliance/test_requests_*.py) ---


@pytest.fixture(autouse=True)
def simulator_dir(settings, tmp_path):
    # Texts sent "by SMS" land here, where the requester (the test) reads the code.
    settings.TELEPHONY_SIMULATOR_DIR = tmp_path / "simulator"
    settings.TELEPHONY_PROVIDER = "simulator"


@pytest.fixture
def client():
    """The test client, except that each request's on-commit work (e-mails, tasks) runs as a real commit would."""
    from tests.compliance.dsr import CommittingClient

    return CommittingClient()
