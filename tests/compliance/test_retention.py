"""The retention engine: each period of the privacy policy runs out on time, and only the right data goes."""

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from accounts.models import Notice, Organisation
from campaigns.models import Call, CallResponse, CampaignContact, Recording
from compliance import retention
from compliance.models import Enquiry, EnquiryReply, LegalHold, RetentionReceipt, RetentionRun
from consumers import services as consumer_services
from consumers.models import ConsentRecord, Consumer, ImportJob, ListMembership, PlatformSuppression
from cookies.models import ConsentRecord as CookieConsent
from nextsupport import privacy
from nextsupport.models import AuditEvent
from tests.factories import (
    CallFactory,
    ConsentRecordFactory,
    ConsumerFactory,
    ContactListFactory,
    ImportJobFactory,
    RecordingFactory,
    SuppressionFactory,
)

NOW = datetime.datetime(2027, 3, 2, 9, 0, tzinfo=datetime.UTC)


def days_later(days: float):
    return time_machine.travel(NOW + datetime.timedelta(days=days), tick=False)


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def on_list(contact_list, **fields) -> Consumer:
    consumer = ConsumerFactory(organisation=contact_list.organisation, **fields)
    ListMembership.objects.create(contact_list=contact_list, consumer=consumer)
    return consumer


def receipt(model) -> RetentionReceipt:
    return RetentionReceipt.objects.filter(model_label=model._meta.label).latest("run__started_at")


@pytest.fixture
def ended_campaign_call(organisation):
    """A call of a campaign that ended now, to a consumer on a list released now."""
    call = CallFactory(organisation=organisation)
    call.campaign.ended_at = NOW
    call.campaign.save(update_fields=["ended_at"])
    contact_list = ContactListFactory(organisation=organisation)
    ListMembership.objects.create(contact_list=contact_list, consumer=call.consumer)
    consumer_services.contact_list_release(contact_list=contact_list, released_at=NOW)
    return call


# --- P30: consumer data --------------------------------------------------------------------


@pytest.mark.obligation("P30", "P34")
def test_consumers_go_30_days_after_their_last_list_is_released_and_only_compliance_evidence_stays(organisation):
    released, in_use = ContactListFactory(organisation=organisation), ContactListFactory(organisation=organisation)
    leaving, staying = on_list(released), on_list(in_use)
    ConsentRecordFactory(organisation=organisation, consumer=leaving)
    suppression = SuppressionFactory(organisation=organisation)
    consumer_services.contact_list_release(contact_list=released, released_at=NOW)

    with days_later(29):
        retention.purge()
    assert Consumer.objects.filter(pk=leaving.pk).exists()

    with days_later(31):
        run = retention.purge()

    assert list(Consumer.objects.all()) == [staying]
    assert not ListMembership.objects.filter(contact_list=released).exists()
    # What TPS/CTPS and opt-out compliance need survives: the ledger and the suppression list.
    assert ConsentRecord._base_manager.filter(consumer_id=leaving.pk).count() == 1
    assert list(organisation.suppressions.all()) == [suppression]
    assert receipt(Consumer).deleted == 1 and receipt(Consumer).run == run


@pytest.mark.obligation("P30")
def test_call_data_goes_30_days_after_the_campaign_but_the_calls_counts_and_durations_stay(ended_campaign_call):
    call = ended_campaign_call

    with days_later(29):
        retention.purge()
    call.refresh_from_db()
    assert call.transcript and CallResponse.objects.filter(call=call).exists()

    with days_later(31):
        retention.purge()

    call.refresh_from_db()
    assert (call.transcript, call.consumer_id, call.contact_id, call.phone_index, call.conversation_state) == (
        None,
        None,
        None,
        None,
        {},
    )
    assert (call.status, call.outcome, call.duration_seconds) == (Call.Status.COMPLETED, Call.Outcome.COMPLETED_SCRIPT, 65)
    assert not CallResponse.objects.filter(call=call).exists()
    assert not CampaignContact.objects.exists() and not Consumer.objects.exists()
    assert receipt(Call).anonymised == 1


@pytest.mark.obligation("P30")
def test_a_list_deleted_at_the_clients_request_takes_its_consumers_at_once(organisation, owner):
    contact_list = ContactListFactory(organisation=organisation)
    on_list(contact_list)

    consumer_services.contact_list_delete(contact_list=contact_list, by=owner)

    assert not Consumer.objects.exists()


# --- P31: recordings -----------------------------------------------------------------------


def stored_recording(organisation, **fields) -> Recording:
    recording = RecordingFactory(organisation=organisation, **fields)
    recording.file = storages["recordings"].save(f"calls/{recording.call_id}.enc", ContentFile(b"ciphertext"))
    recording.status = Recording.Status.STORED
    recording.save(update_fields=["file", "status"])
    return recording


@pytest.mark.obligation("P31", "P34")
def test_recordings_and_their_files_go_after_six_months(organisation):
    recording = stored_recording(organisation)
    storage = storages["recordings"]

    with days_later(182):
        retention.purge()
    assert Recording.objects.filter(pk=recording.pk).exists() and storage.exists(recording.file)

    with days_later(184):
        retention.purge()

    assert not Recording.objects.filter(pk=recording.pk).exists()
    assert not storage.exists(recording.file)
    assert (receipt(Recording).deleted, receipt(Recording).files_deleted, receipt(Recording).files_pending) == (1, 1, 0)
    # The call itself stays, with its duration.
    assert Call.objects.filter(pk=recording.call_id).exists()


@pytest.mark.obligation("P31", "P30")
def test_a_recording_goes_with_its_calls_data_when_the_campaign_ended_more_than_30_days_ago(organisation):
    recording = stored_recording(organisation)
    recording.call.campaign.ended_at = NOW
    recording.call.campaign.save(update_fields=["ended_at"])

    with days_later(31):
        retention.purge()

    assert not Recording.objects.exists() and not storages["recordings"].exists(recording.file)


@pytest.mark.obligation("P31", "P34")
def test_a_file_the_storage_cannot_delete_is_retried_and_reported_never_forgotten(organisation, monkeypatch):
    recording = stored_recording(organisation)
    storage = storages["recordings"]
    real_delete = type(storage).delete

    def unavailable(self, name):
        raise ConnectionError("storage unavailable")

    monkeypatch.setattr(type(storage), "delete", unavailable)
    with days_later(184):
        retention.purge()

    assert not Recording.objects.exists() and storage.exists(recording.file)
    assert receipt(Recording).files_pending == 1
    pending = retention.StorageDeletion.objects.get()
    assert (pending.attempts, pending.last_error) == (1, "ConnectionError")

    monkeypatch.setattr(type(storage), "delete", real_delete)
    with days_later(185):
        retention.purge()

    assert not storage.exists(recording.file)
    assert not retention.StorageDeletion.objects.exists()


# --- P32, P33: the website -----------------------------------------------------------------


@pytest.mark.obligation("P32")
def test_cookie_consent_records_go_after_twelve_months(db):
    record = CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)

    with days_later(364):
        retention.purge()
    assert CookieConsent.objects.filter(pk=record.pk).exists()

    with days_later(366):
        retention.purge()
    assert not CookieConsent.objects.exists()


@pytest.mark.obligation("P33")
def test_enquiries_go_after_a_year_or_30_days_after_they_are_resolved_whichever_is_sooner(db, compliance_officer):
    def enquiry(resolved_after_days=None):
        item = Enquiry.objects.create(name="A", email="a@example.org", subject="S", message="M")
        if resolved_after_days is not None:
            item.status, item.resolved_at = Enquiry.Status.RESOLVED, NOW + datetime.timedelta(days=resolved_after_days)
            item.save(update_fields=["status", "resolved_at"])
        return item.pk

    unresolved, resolved_early, resolved_late = enquiry(), enquiry(10), enquiry(350)
    EnquiryReply.objects.create(enquiry_id=resolved_early, body="Our answer", sent_by=compliance_officer)

    with days_later(39):
        retention.purge()
    assert set(Enquiry.objects.values_list("pk", flat=True)) == {unresolved, resolved_early, resolved_late}

    with days_later(41):
        retention.purge()
    assert set(Enquiry.objects.values_list("pk", flat=True)) == {unresolved, resolved_late}
    assert not EnquiryReply.objects.exists()

    with days_later(366):
        retention.purge()
    assert not Enquiry.objects.exists()


def test_the_enquiry_rule_lives_whole_in_the_registry():
    rule = privacy.registration_for(Enquiry).retention

    assert (rule.days, rule.after) == (365, "received_at")
    assert [(clock.days, clock.after) for clock in rule.sooner] == [(30, "resolved_at")]


# --- P29: client data ----------------------------------------------------------------------


@pytest.mark.obligation("P29")
def test_a_clients_billing_contact_is_anonymised_six_years_after_the_contract_ends(organisation):
    Organisation.objects.filter(pk=organisation.pk).update(
        contract_end=NOW.date(), billing_contact_name="Mary Jones", billing_email="mary@acme.example"
    )

    with days_later(6 * 365):
        retention.purge()
    organisation.refresh_from_db()
    assert organisation.billing_contact_name == "Mary Jones"

    with days_later(6 * 366 + 2):
        retention.purge()
    organisation.refresh_from_db()
    assert (organisation.billing_contact_name, organisation.billing_email, organisation.billing_email_index) == (
        None,
        None,
        None,
    )
    assert organisation.legal_name == "Acme Energy Ltd"  # the business record itself stays


# --- P48: children -------------------------------------------------------------------------


@pytest.mark.obligation("P48", "P34")
def test_the_hourly_sweep_deletes_a_consumer_found_to_be_under_16_and_keeps_the_number_suppressed(organisation):
    child = ConsumerFactory(organisation=organisation, date_of_birth=datetime.date(2015, 6, 1))
    adult = ConsumerFactory(organisation=organisation, date_of_birth=datetime.date(1980, 6, 1))

    run = retention.minors_sweep()

    assert list(Consumer.objects.all()) == [adult]
    assert PlatformSuppression.objects.filter(phone_index=child.phone_index).exists()
    assert run.receipts.get().deleted == 1
    assert AuditEvent.objects.filter(action="compliance.retention_minors_swept").count() == 1


@pytest.mark.obligation("P48")
def test_the_sweep_reads_only_consumers_changed_since_the_last_one(organisation):
    ConsumerFactory(organisation=organisation, date_of_birth=datetime.date(1980, 6, 1))
    retention.minors_sweep()

    with days_later(1):
        child = ConsumerFactory(organisation=organisation, date_of_birth=datetime.date(2016, 1, 1))
    with days_later(1.1):
        retention.minors_sweep()

    assert not Consumer.objects.filter(pk=child.pk).exists()


# --- Holds ---------------------------------------------------------------------------------


@pytest.mark.obligation("P30", "P34")
def test_an_organisation_on_legal_hold_keeps_its_data_and_the_receipt_counts_it(
    ended_campaign_call, organisation, compliance_officer
):
    LegalHold.objects.create(
        scope=LegalHold.Scope.ORGANISATION, organisation=organisation, reason="Claim 42", placed_by=compliance_officer
    )

    with days_later(31):
        retention.purge()

    ended_campaign_call.refresh_from_db()
    assert ended_campaign_call.transcript and Consumer.objects.exists()
    assert receipt(Consumer).held == 1 and receipt(Call).held == 1 and receipt(Consumer).deleted == 0


@pytest.mark.obligation("P30")
def test_a_consumer_on_hold_keeps_their_calls_and_recordings_while_others_go(organisation, compliance_officer):
    kept, gone = stored_recording(organisation), stored_recording(organisation)
    LegalHold.objects.create(
        scope=LegalHold.Scope.CONSUMER, consumer_id=kept.call.consumer_id, reason="ICO inquiry", placed_by=compliance_officer
    )

    with days_later(184):
        retention.purge()

    assert list(Recording.objects.all()) == [kept]
    assert receipt(Recording).held == 1 and receipt(Recording).deleted == 1
    assert not storages["recordings"].exists(gone.file)


def test_a_hold_on_one_record_ends_on_its_date_and_the_next_run_purges_it(db, compliance_officer):
    record = CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)
    LegalHold.objects.create(
        scope=LegalHold.Scope.OBJECT,
        target_model="cookies.ConsentRecord",
        target_id=str(record.pk),
        reason="Complaint about the banner",
        placed_by=compliance_officer,
        until=NOW + datetime.timedelta(days=400),
    )

    with days_later(366):
        retention.purge()
    assert CookieConsent.objects.exists()

    with days_later(401):
        retention.purge()
    assert not CookieConsent.objects.exists()


# --- Sessions, notices, imports ------------------------------------------------------------


def test_expired_sessions_sent_notices_and_finished_imports_go_on_their_own_rules(organisation, settings, tmp_path):
    Session.objects.create(session_key="a" * 32, session_data="x", expire_date=NOW + datetime.timedelta(days=1))
    Notice.objects.create(key="sent", sent_at=NOW, sent_to=["user:1"])
    Notice.objects.create(key="stuck", sending_since=NOW)
    job = ImportJobFactory(organisation=organisation, status=ImportJob.Status.COMPLETED, finished_at=NOW)
    job.file.save("customers.csv", ContentFile(b"name,phone\n"), save=True)
    running = ImportJobFactory(organisation=organisation, status=ImportJob.Status.IMPORTING)
    upload = job.file.name

    with days_later(2):
        retention.purge()
    assert not Session.objects.exists()
    assert Notice.objects.count() == 2 and ImportJob.objects.count() == 2

    with days_later(91):
        retention.purge()
    assert list(Notice.objects.values_list("key", flat=True)) == ["stuck"]
    assert list(ImportJob.objects.all()) == [running]
    assert not storages["default"].exists(upload)


# --- The engine ----------------------------------------------------------------------------


@pytest.mark.obligation("P34")
def test_a_run_leaves_a_receipt_per_rule_and_an_audit_event_with_counts_only(organisation):
    on_list(released := ContactListFactory(organisation=organisation), name="Harriet Quill")
    consumer_services.contact_list_release(contact_list=released, released_at=NOW)

    with days_later(31):
        run = retention.purge()

    assert run.status == RetentionRun.Status.COMPLETED
    labels = set(run.receipts.values_list("model_label", flat=True))
    assert {"consumers.Consumer", "campaigns.Recording", "cookies.ConsentRecord", "compliance.Enquiry"} <= labels
    event = AuditEvent.objects.get(action="compliance.retention_run")
    assert event.details["deleted"] >= 1 and event.details["run"] == run.pk
    assert all(isinstance(value, int) for value in event.details.values())
    assert "Harriet" not in str(list(run.receipts.values())) + str(event.details)


def test_running_again_changes_nothing(organisation):
    on_list(released := ContactListFactory(organisation=organisation))
    consumer_services.contact_list_release(contact_list=released, released_at=NOW)

    with days_later(31):
        retention.purge()
        second = retention.purge()

    assert sum(second.receipts.values_list("deleted", flat=True)) == 0
    assert sum(second.receipts.values_list("anonymised", flat=True)) == 0


def test_a_second_purge_while_one_runs_does_nothing(db, django_db_blocker):
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")})
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [retention.PURGE_LOCK])
        assert retention.purge() is None
        assert not RetentionRun.objects.exists()
    finally:
        other.close()


def test_every_registered_model_has_a_rule_the_engine_runs_or_says_why_it_is_kept(db):
    runnable = {registration.label for registration, _ in retention.rules()}

    for registration in privacy.registrations():
        if registration.label in runnable:
            continue
        # Not time-based: kept while something else exists, for good (opt-outs), or replaced wholesale.
        assert registration.retention.days is None or registration.retention.action == privacy.Action.RETAIN, registration.label
        assert registration.retention.basis, registration.label
    assert {"consumers.Consumer", "campaigns.Call", "nextsupport.AuditEvent", "sessions.Session"} <= runnable


def test_the_purge_and_the_minors_sweep_run_from_the_beat_schedule(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["compliance.tasks.retention_purge"] == datetime.timedelta(days=1)
    assert schedule["compliance.tasks.retention_minors_sweep"] == datetime.timedelta(hours=1)
    assert "cookies.tasks.purge_consent_records" not in schedule and "compliance.tasks.purge_enquiries" not in schedule
