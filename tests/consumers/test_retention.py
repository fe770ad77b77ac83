"""Retention (P30), deletion on the client's request, and what a data-subject request finds."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consumers import services
from consumers.models import (
    ConsentRecord,
    Consumer,
    ContactList,
    ImportProblem,
    LawfulBasisAttestation,
    ListMembership,
    Suppression,
)
from nextsupport import privacy
from nextsupport.models import AuditEvent
from tests.consumers.conftest import ATTESTATION, csv_bytes, make_list, run_import, upload

ROWS = csv_bytes(["Phone", "Name", "Email"], ["07911 123456", "Ada", "ada@example.org"], ["020 7946 0001", "Bob", ""])


@pytest.fixture
def two_lists(organisation, owner):
    spring, summer = make_list(organisation, owner, name="Spring"), make_list(organisation, owner, name="Summer")
    run_import(spring, owner, ROWS)
    run_import(summer, owner, csv_bytes(["Phone"], ["07911 123456"]))
    return spring, summer


def test_the_retention_clock_of_a_consumer_starts_when_the_last_list_using_them_is_released(two_lists):
    spring, summer = two_lists
    ended = timezone.now() - datetime.timedelta(days=31)
    registration = privacy.registration_for(Consumer)

    services.contact_list_release(contact_list=spring, released_at=ended)

    # Bob was only on Spring: his clock runs. Ada is still on Summer, in use.
    assert list(registration.expired().values_list("name", flat=True)) == ["Bob"]

    services.contact_list_release(contact_list=summer, released_at=ended)
    assert sorted(registration.expired().values_list("name", flat=True)) == ["Ada", "Bob"]
    assert registration.retention.days == 30 and registration.retention.action == privacy.Action.DELETE


def test_a_released_consumer_imported_again_is_in_use_again(two_lists, owner):
    spring, summer = two_lists
    services.contact_list_release(contact_list=spring, released_at=timezone.now() - datetime.timedelta(days=31))
    services.contact_list_release(contact_list=summer, released_at=timezone.now() - datetime.timedelta(days=31))

    run_import(make_list(spring.organisation, owner, name="Autumn"), owner, csv_bytes(["Phone"], ["07911 123456"]))

    assert list(privacy.registration_for(Consumer).expired().values_list("name", flat=True)) == ["Bob"]


@pytest.mark.obligation("P30")
def test_deleting_a_list_on_request_deletes_everyone_on_no_other_list(two_lists, owner, organisation):
    spring, _ = two_lists
    ada = Consumer.objects.get(phone_index__matches="07911123456")
    services.consent_record(
        consumer=ada, purpose="marketing_calls", method="paper", occurred_at=ada.created_at, wording_version="v1"
    )
    services.suppression_add(phone="020 7946 0001", organisation=organisation, reason="opt_out", source="client_request")

    spring_id = spring.pk

    deleted = services.contact_list_delete(contact_list=spring, by=owner)

    assert deleted == 1
    assert list(Consumer.objects.values_list("name", flat=True)) == ["Ada"]
    assert not ContactList.objects.filter(pk=spring_id).exists()
    assert ConsentRecord.objects.count() == 1 and Suppression.objects.count() == 1  # evidence and opt-outs stay
    assert AuditEvent.objects.get(action="contact_list.deleted").details == {"list_id": spring_id, "consumers_deleted": 1}


def test_a_list_cannot_be_deleted_while_an_import_into_it_is_queued_or_running(service_list, owner):
    job = services.import_job_create(contact_list=service_list, upload=upload(ROWS), uploaded_by=owner)
    services.import_job_start(job=job, mapping={"0": "phone", "1": "name", "2": "email"}, by=owner)

    with pytest.raises(ValidationError, match="An import into this list is still running"):
        services.contact_list_delete(contact_list=service_list, by=owner)

    job.refresh_from_db()
    assert job.file.storage.exists(job.file.name)  # the worker still has its file
    assert services.import_job_run(job_id=job.pk) == "done"
    assert services.contact_list_delete(contact_list=service_list, by=owner) == 2
    assert not Consumer.objects.exists() and not ListMembership.objects.exists()


@pytest.mark.obligation("P19")
def test_the_attestation_outlives_its_list_and_cannot_be_changed_or_deleted(organisation, owner):
    contact_list = make_list(organisation, owner, name="Boiler customers")
    attestation, list_id = contact_list.attestations.get(), contact_list.pk

    services.contact_list_delete(contact_list=contact_list, by=owner)

    kept = LawfulBasisAttestation.objects.get(pk=attestation.pk)
    assert (kept.organisation, kept.contact_list_id, kept.list_name, kept.attested_by, kept.wording) == (
        organisation,
        list_id,
        "Boiler customers",
        owner,
        ATTESTATION,
    )
    assert str(kept) == "Contract for Boiler customers"
    with pytest.raises(PermissionError):
        kept.delete()
    with pytest.raises(PermissionError):
        LawfulBasisAttestation.objects.update(wording="Something else")
    for statement in [
        "UPDATE consumers_lawfulbasisattestation SET wording = 'x'",
        "DELETE FROM consumers_lawfulbasisattestation",
    ]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    registration = privacy.registration_for(LawfulBasisAttestation)
    assert registration.erasure == privacy.Action.RETAIN
    assert list(registration.rows_for(privacy.Subject(user_id=owner.pk))) == [kept]


@pytest.mark.obligation("P35")
def test_a_data_subject_request_finds_every_row_about_a_number(two_lists, organisation, other_organisation, outsider):
    ada = Consumer.objects.get(phone_index__matches="07911123456")
    services.consent_record(
        consumer=ada, purpose="marketing_calls", method="paper", occurred_at=ada.created_at, wording_version="v1"
    )
    services.suppression_add(phone="07911 123456", organisation=organisation, reason="opt_out", source="client_request")
    run_import(make_list(other_organisation, outsider), outsider, csv_bytes(["Phone"], ["07911 123456"]))
    subject = privacy.Subject(phone="+44 7911 123456")

    found = {r.label: r.rows_for(subject).count() for r in privacy.registrations() if r.model._meta.app_label == "consumers"}

    assert found == {
        "consumers.Consumer": 2,  # one per client: both are answered (and forwarded to each controller)
        "consumers.ListMembership": 3,
        "consumers.ImportProblem": 0,
        "consumers.ImportJob": 0,  # the upload and its header: nothing to find a person by
        "consumers.ConsentRecord": 1,
        "consumers.Suppression": 1,
        "consumers.PlatformSuppression": 0,
        "consumers.RegisteredNumber": 0,
        "consumers.LawfulBasisAttestation": 0,  # about the client's user who attested, not about the number
    }
    exported = privacy.registration_for(Consumer).export(ada)
    assert exported | {"created_at": None} == {
        "model": "consumers.Consumer",
        "id": ada.pk,
        "name": "Ada",
        "phone": "+447911123456",
        "email": "ada@example.org",
        "date_of_birth": None,
        "postcode": None,
        "timezone": None,
        "restricted_at": None,
        "restriction_reason": None,
        "objected_at": None,
        "created_at": None,
    }
    assert privacy.registration_for(Consumer).rows_for(privacy.Subject(email="ADA@example.org")).get() == ada


def test_every_consumers_model_with_personal_data_is_registered_with_its_controller():
    registrations = {r.label: r for r in privacy.registrations()}
    assert registrations["consumers.Consumer"].controller == privacy.Controller.CLIENT
    assert registrations["consumers.Suppression"].controller == privacy.Controller.CLIENT
    assert registrations["consumers.PlatformSuppression"].controller == privacy.Controller.NEXTSUPPORT
    assert registrations["consumers.ConsentRecord"].erasure == privacy.Action.RETAIN
    assert privacy.check_registry() == []


def test_the_error_report_goes_30_days_after_its_import(service_list, owner):
    job = run_import(service_list, owner, csv_bytes(["Phone"], ["bad"]))
    registration = privacy.registration_for(ImportProblem)

    assert not registration.expired().exists()
    assert list(registration.expired(now=job.finished_at + datetime.timedelta(days=31))) == [ImportProblem.objects.get()]


def test_list_memberships_follow_their_list(two_lists):
    spring, _ = two_lists
    services.contact_list_release(contact_list=spring, released_at=timezone.now() - datetime.timedelta(days=31))

    assert privacy.registration_for(ListMembership).expired().count() == 2
