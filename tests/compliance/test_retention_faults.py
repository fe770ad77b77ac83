"""The retention engine under faults: killed mid-way, run again; the audit trail aging; rules staff change."""

import datetime
import io

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from campaigns.models import Call, CallResponse, Campaign, CampaignContact, Recording
from compliance import retention, services
from compliance.models import LegalHold, RetentionRule, RetentionRun, StorageDeletion
from consumers.models import ConsentRecord, Consumer, ListMembership
from cookies.models import ConsentRecord as CookieConsent
from nextsupport import audit
from nextsupport.models import AuditCheckpoint, AuditEvent
from tests.conftest import login
from tests.factories import CallFactory, ConsentRecordFactory, ContactListFactory, RecordingFactory

NOW = datetime.datetime(2027, 3, 2, 9, 0, tzinfo=datetime.UTC)
SIX_YEARS = 6 * 366


def days_later(days: float):
    return time_machine.travel(NOW + datetime.timedelta(days=days), tick=False)


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way up handles it."""


# --- Killed mid-way, run again -------------------------------------------------------------


def consumers_with_calls(organisation, other_organisation, count=5):
    """`count` consumers whose campaign ended and list was released now, each with a recorded call,
    and one consumer of another client still in use."""
    contact_list, names = ContactListFactory(organisation=organisation), []
    for _ in range(count):
        recording = RecordingFactory(organisation=organisation)
        recording.file = storages["recordings"].save(f"calls/{recording.call_id}.enc", ContentFile(b"audio"))
        recording.save(update_fields=["file"])
        names.append(recording.file)
        ListMembership.objects.create(contact_list=contact_list, consumer=recording.call.consumer)
    Consumer.objects.filter(organisation=organisation).update(released_at=NOW)
    Campaign.objects.filter(organisation=organisation).update(ended_at=NOW)
    CallFactory(organisation=other_organisation)
    return names


def state(files) -> dict:
    return {
        "consumers": Consumer.objects.count(),
        "memberships": ListMembership.objects.count(),
        "contacts": CampaignContact.objects.count(),
        "responses": CallResponse.objects.count(),
        "calls": Call.objects.count(),
        "calls_with_a_person": Call.objects.filter(transcript__isnull=False).count(),
        "recordings": Recording.objects.count(),
        "files_left": sum(storages["recordings"].exists(name) for name in files),
        "queued_file_deletions": StorageDeletion.objects.count(),
    }


# One consumer of another client survives with everything; of the five, each call stays without its person.
PURGED = {
    "consumers": 1,
    "memberships": 0,
    "contacts": 1,
    "responses": 1,
    "calls": 6,
    "calls_with_a_person": 1,
    "recordings": 0,
    "files_left": 0,
    "queued_file_deletions": 0,
}


def test_an_uninterrupted_purge_leaves_exactly_the_data_the_rules_keep(organisation, other_organisation, settings):
    settings.RETENTION_BATCH_SIZE = 2
    files = consumers_with_calls(organisation, other_organisation)

    with days_later(31):
        retention.purge()

    assert state(files) == PURGED


@pytest.mark.obligation("P34")
@pytest.mark.parametrize("dies_at", ["inside_a_batch", "after_a_batch_before_its_files", "in_the_consumer_rule"])
def test_a_purge_killed_mid_way_and_run_again_ends_as_an_uninterrupted_one(
    organisation, other_organisation, settings, monkeypatch, dies_at
):
    settings.RETENTION_BATCH_SIZE = 2
    files = consumers_with_calls(organisation, other_organisation)
    real_apply, real_retry = retention._apply, retention.storage_retry
    calls = {"apply": 0}

    def apply(registration, pks, receipt):
        calls["apply"] += 1
        if dies_at == "inside_a_batch" and calls["apply"] == 2:
            real_apply(registration, pks, receipt)
            raise WorkerDied  # the rows are gone in this transaction, which never commits
        if dies_at == "in_the_consumer_rule" and registration.label == "consumers.Consumer":
            raise WorkerDied
        return real_apply(registration, pks, receipt)

    def retry(model_label=None):
        if dies_at == "after_a_batch_before_its_files" and model_label == "campaigns.Recording":
            raise WorkerDied  # the batch committed; its files are only queued
        return real_retry(model_label)

    monkeypatch.setattr(retention, "_apply", apply)
    monkeypatch.setattr(retention, "storage_retry", retry)
    with days_later(31), pytest.raises(WorkerDied):
        retention.purge()
    interrupted = state(files)

    monkeypatch.setattr(retention, "_apply", real_apply)
    monkeypatch.setattr(retention, "storage_retry", real_retry)
    with days_later(31):
        again = retention.purge()

    assert interrupted != PURGED  # the kill did stop it part-way
    assert state(files) == PURGED
    assert list(RetentionRun.objects.order_by("started_at", "id").values_list("status", flat=True)) == [
        RetentionRun.Status.INTERRUPTED,
        RetentionRun.Status.COMPLETED,
    ]
    assert again.status == RetentionRun.Status.COMPLETED


def test_a_rule_that_fails_is_reported_and_the_other_rules_still_run(db, monkeypatch):
    CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)
    real_apply = retention._apply

    def apply(registration, pks, receipt):
        if registration.label == "sessions.Session":
            raise DatabaseError("protected")
        return real_apply(registration, pks, receipt)

    from django.contrib.sessions.models import Session

    Session.objects.create(session_key="b" * 32, session_data="x", expire_date=NOW)
    monkeypatch.setattr(retention, "_apply", apply)
    with days_later(366):
        run = retention.purge()

    assert run.receipts.get(model_label="sessions.Session").error == "DatabaseError"
    assert run.receipts.get(model_label="cookies.ConsentRecord").deleted == 1


# --- Evidence kept six years ---------------------------------------------------------------


@pytest.mark.obligation("P29", "P34")
def test_consent_evidence_goes_six_years_after_it_was_recorded_though_the_ledger_refuses_other_deletes(organisation):
    record = ConsentRecordFactory(organisation=organisation)

    with days_later(SIX_YEARS - 1):
        retention.purge()
    assert ConsentRecord._base_manager.filter(pk=record.pk).exists()

    with days_later(SIX_YEARS + 1):
        retention.purge()
    assert not ConsentRecord._base_manager.filter(pk=record.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        ConsentRecordFactory(organisation=organisation)
        cursor.execute("DELETE FROM consumers_consentrecord")


# --- The audit trail ages ------------------------------------------------------------------


def events(count: int, **fields) -> list[AuditEvent]:
    return [audit.record("test.event", actor_label="test", **fields) for _ in range(count)]


@pytest.mark.obligation("P34")
def test_audit_events_older_than_six_years_go_and_the_chain_still_verifies_from_a_signed_checkpoint(db, settings):
    settings.RETENTION_BATCH_SIZE = 2
    old = events(5)
    with days_later(SIX_YEARS - 10):
        recent = events(2)

    with days_later(SIX_YEARS + 1):
        run = retention.purge()

    kept = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert kept[:2] == [event.sequence for event in recent]
    assert not AuditEvent.objects.filter(sequence__lte=old[-1].sequence).exists()
    assert AuditCheckpoint.objects.latest("sequence").sequence == old[-1].sequence
    assert AuditCheckpoint.objects.count() == 3  # batches of 2, 2 and 1, each with its checkpoint
    report = audit.verify_chain()
    assert report.ok and report.checked == len(kept)
    assert run.receipts.get(model_label="nextsupport.AuditEvent").deleted == 5


def test_a_checkpoint_signed_with_another_key_does_not_verify(db, settings):
    events(3)
    with days_later(SIX_YEARS + 1):
        events(1)
        audit.purge_expired(NOW + datetime.timedelta(days=1), 10)

    settings.AUDIT_CHECKPOINT_KEY = "another-key"

    report = audit.verify_chain()
    assert not report.ok and "not signed" in report.problem


def test_events_cannot_be_removed_outside_the_purge_and_a_gap_without_checkpoint_is_reported(db):
    events(3)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM nextsupport_auditevent WHERE sequence = 1")


def test_when_every_event_is_purged_the_chain_carries_on_from_the_checkpoint(db):
    last = events(2)[-1]

    with days_later(SIX_YEARS + 1):
        audit.purge_expired(NOW + datetime.timedelta(days=1), 100)
        following = events(1)[0]

    assert following.sequence == last.sequence + 1 and following.prev_hash == last.hash
    assert audit.verify_chain().ok


def test_the_events_of_an_organisation_on_hold_stop_the_audit_purge(organisation, compliance_officer):
    events(2)
    held = events(1, organisation_id=organisation.pk)[0]
    events(2)
    LegalHold.objects.create(
        scope=LegalHold.Scope.ORGANISATION, organisation=organisation, reason="Litigation", placed_by=compliance_officer
    )

    with days_later(SIX_YEARS + 1):
        run = retention.purge()

    assert AuditEvent.objects.order_by("sequence").first().sequence == held.sequence
    assert audit.verify_chain().ok
    assert run.receipts.get(model_label="nextsupport.AuditEvent").deleted == held.sequence - 1


# --- Rules staff change --------------------------------------------------------------------


def rule(label) -> RetentionRule:
    retention.rules_sync()
    return RetentionRule.objects.get(model_label=label)


@pytest.mark.obligation("P32")
def test_a_shorter_period_is_allowed_and_the_purge_follows_it(compliance_officer):
    CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)

    services.retention_rule_set(rule=rule("cookies.ConsentRecord"), days=30, reason="", by=compliance_officer)
    with days_later(31):
        retention.purge()

    assert not CookieConsent.objects.exists()
    event = AuditEvent.objects.get(action="compliance.retention_rule_changed")
    assert event.details == {"model": "cookies.ConsentRecord", "from_days": 365, "to_days": 30}


@pytest.mark.obligation("P31")
def test_keeping_data_longer_than_the_policy_is_refused_without_a_recorded_reason(compliance_officer):
    recordings = rule("campaigns.Recording")

    with pytest.raises(ValidationError) as refused:
        services.retention_rule_set(rule=recordings, days=400, reason="  ", by=compliance_officer)

    assert "longer than the privacy policy's 183 days" in refused.value.message_dict["reason"][0]
    recordings.refresh_from_db()
    assert recordings.days is None

    services.retention_rule_set(
        rule=recordings, days=400, reason="Ofcom investigation 2027/14 requires the recordings", by=compliance_officer
    )
    assert rule("campaigns.Recording").effective_days == 400


def test_a_rule_that_is_not_time_based_cannot_be_given_a_period(compliance_officer):
    with pytest.raises(ValidationError) as refused:
        services.retention_rule_set(rule=rule("consumers.Suppression"), days=30, reason="why", by=compliance_officer)

    assert "not kept for a period" in refused.value.message_dict["days"][0]


def test_compliance_staff_see_the_rules_and_are_told_why_a_longer_period_is_refused(client, compliance_officer):
    login(client, compliance_officer)

    listing = client.get("/admin/compliance/retentionrule/")
    assert listing.status_code == 200
    assert b"cookies.ConsentRecord" in listing.content and b"Counted from" in listing.content

    target = rule("cookies.ConsentRecord")
    response = client.post(f"/admin/compliance/retentionrule/{target.pk}/change/", {"days": "500", "reason": ""})
    assert response.status_code == 200
    assert "longer than the privacy policy" in response.content.decode()
    assert rule("cookies.ConsentRecord").days is None


def test_the_dry_run_in_the_admin_counts_what_would_go_and_changes_nothing(client, compliance_officer):
    CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)
    target = rule("cookies.ConsentRecord")

    with days_later(366):
        login(client, compliance_officer)
        response = client.post("/admin/compliance/retentionrule/", {"action": "dry_run", "_selected_action": [target.pk]})

    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert shown == ["cookies.ConsentRecord: would delete 1, 0 held."]
    assert CookieConsent.objects.count() == 1


def test_staff_place_a_legal_hold_in_the_admin_and_it_is_audited(client, compliance_officer, organisation):
    login(client, compliance_officer)

    response = client.post(
        "/admin/compliance/legalhold/add/",
        {"scope": "organisation", "organisation": organisation.pk, "reason": "Claim 7", "until": ""},
    )

    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.placed_by, hold.organisation) == (compliance_officer, organisation)
    assert AuditEvent.objects.filter(action="compliance.legal_hold_placed").exists()


def test_a_hold_on_a_record_that_does_not_exist_is_refused(compliance_officer):
    hold = LegalHold(scope=LegalHold.Scope.OBJECT, target_model="campaigns.Call", target_id="999999", reason="x")

    with pytest.raises(ValidationError) as refused:
        services.legal_hold_place(hold=hold, by=compliance_officer)

    assert "There is no campaigns.Call with id 999999" in refused.value.message_dict["target_id"][0]


# --- The command ---------------------------------------------------------------------------


def test_the_command_dry_run_shows_each_rule_and_changes_nothing_then_a_real_run_purges(db):
    CookieConsent.objects.create(categories=[], policy_version=1, banner_version="a" * 12, gpc=False)
    out = io.StringIO()

    with days_later(366):
        call_command("retention_purge", "--dry-run", "--model", "cookies.ConsentRecord", stdout=out)
        assert "would delete         1" in out.getvalue() and CookieConsent.objects.count() == 1
        call_command("retention_purge", stdout=out)

    assert not CookieConsent.objects.exists()
    assert "completed" in out.getvalue()


def test_the_command_names_an_unknown_rule(db):
    with pytest.raises(CommandError, match=r"No retention rule runs for shop\.Basket"):
        call_command("retention_purge", "--dry-run", "--model", "shop.Basket")
