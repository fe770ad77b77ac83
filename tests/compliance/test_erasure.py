"""Erasure leaves only what the law requires; restriction, objection and rectification do what they say (P36-P38, P40, P41)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages

from accounts.models import User
from campaigns.models import Call, CallResponse, CampaignContact, Recording
from compliance import discovery, erasure
from compliance.models import ErasureLogEntry, Rectification, StorageDeletion
from consumers.models import ConsentRecord, Consumer, ListMembership, PlatformSuppression, Suppression
from consumers.selectors import call_refusals, is_suppressed
from nextsupport import privacy
from tests.accounts.helpers import actions, last_sequence
from tests.compliance.conftest import make_person

pytestmark = pytest.mark.django_db
REFERENCE = "DSR-2026-000123"


def held(subject) -> dict[str, int]:
    """What discovery still finds about the subject, per model."""
    counts: dict[str, int] = {}
    for item in discovery.find(subject).items:
        counts[item.label] = counts.get(item.label, 0) + 1
    return counts


def by_action(lines) -> dict[tuple[str, str], int]:
    """Counts per category and action, every controller together."""
    counts: dict[tuple[str, str], int] = {}
    for line in lines:
        counts[(line.category, line.action)] = counts.get((line.category, line.action), 0) + line.count
    return counts


@pytest.mark.obligation("P37")
def test_erasure_leaves_only_what_a_legal_obligation_requires(person, stranger):
    lines = erasure.erase_subject(person.subject, reference=REFERENCE)

    remaining = held(privacy.Subject(phone=person.subject.phone, user_id=person.user.pk))
    assert {"consumers.ConsentRecord", "consumers.Suppression", "compliance.ErasureLogEntry"} <= set(remaining)
    assert set(remaining) <= {
        "consumers.ConsentRecord",  # PECR evidence
        "consumers.Suppression",  # her number, as a digest, on both clients' lists now
        "compliance.ErasureLogEntry",  # digests only, so a restore cannot bring her data back
        "accounts.User",  # the account row, anonymised
        "accounts.PolicyAcceptance",
        "nextsupport.AuditEvent",
    }
    assert remaining["consumers.Suppression"] == 2
    assert not Consumer.objects.filter(pk__in=[c.pk for c in person.consumers]).exists()
    assert not ListMembership.objects.filter(consumer__in=person.consumers).exists()
    assert not CampaignContact.objects.filter(consumer__in=person.consumers).exists()
    assert not CallResponse.objects.filter(call__in=person.calls).exists()
    calls = Call.objects.filter(pk__in=[c.pk for c in person.calls])
    assert [(c.transcript, c.phone_index, c.consumer_id, c.duration_seconds) for c in calls] == [(None, None, None, 65)] * 2
    user = User.objects.get(pk=person.user.pk)
    assert (user.email, user.full_name) == (f"erased-user-{user.pk}@erased.invalid", None)
    assert Consumer.objects.filter(pk=stranger.pk).exists()

    receipt = by_action(lines)
    assert receipt[("Call interaction data: calls", "anonymised")] == 2
    assert receipt[("Call recording: recordings", "deleted")] == 1
    assert receipt[("Consent evidence: consent records", "kept")] == 2
    kept = next(line for line in lines if line.category == "Consent evidence: consent records")
    assert "PECR" in kept.note
    assert all("P3" not in line.note for line in lines)  # no internal references for the reader


@pytest.mark.obligation("P37")
def test_the_recording_file_is_gone_from_storage(person):
    name = person.recording.file
    assert storages["recordings"].exists(name)

    erasure.erase_subject(person.subject, reference=REFERENCE)

    assert not storages["recordings"].exists(name)
    assert not Recording.objects.filter(pk=person.recording.pk).exists()


@pytest.mark.obligation("P37", "P40")
def test_a_later_import_of_the_same_number_is_suppressed(person):
    erasure.erase_subject(person.subject, reference=REFERENCE)

    assert is_suppressed(organisation=person.first, phone=person.subject.phone)
    assert is_suppressed(organisation=person.second, phone=person.subject.phone)


@pytest.mark.obligation("P37", "P43")
def test_erasure_for_one_client_leaves_the_other_clients_data(person):
    erasure.erase_subject(person.subject, organisation_ids={person.first.pk}, reference=REFERENCE)

    assert not Consumer.objects.filter(pk=person.consumers[0].pk).exists()
    assert Consumer.objects.filter(pk=person.consumers[1].pk).exists()
    assert User.objects.get(pk=person.user.pk).email == person.subject.email  # NextSupport's own data: not asked


@pytest.mark.obligation("P37")
def test_erasing_again_changes_nothing_and_gives_the_same_receipt(person):
    first = erasure.erase_subject(person.subject, reference=REFERENCE)
    state = held(privacy.Subject(phone=person.subject.phone, user_id=person.user.pk))

    again = erasure.erase_subject(person.subject, reference=REFERENCE)

    assert held(privacy.Subject(phone=person.subject.phone, user_id=person.user.pk)) == state
    assert by_action(again) == by_action(first)
    assert ErasureLogEntry.objects.filter(reference=REFERENCE).count() == 1


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way up handles it."""


@pytest.mark.obligation("P37")
def test_an_erasure_killed_mid_way_and_run_again_ends_in_the_state_of_a_clean_run(monkeypatch):
    crashed, clean = make_person(), make_person("+447911200400", "grace@home.example")
    real_erase = privacy.Registration.erase
    calls = {"n": 0}

    def dies_at_the_fourth_model(self, queryset):
        calls["n"] += 1
        if calls["n"] == 4:
            raise WorkerDied
        return real_erase(self, queryset)

    monkeypatch.setattr(privacy.Registration, "erase", dies_at_the_fourth_model)
    with pytest.raises(WorkerDied):
        erasure.erase_subject(crashed.subject, reference="DSR-2026-000001")
    assert ErasureLogEntry.objects.get(reference="DSR-2026-000001").completed_at is None
    monkeypatch.setattr(privacy.Registration, "erase", real_erase)

    rerun = erasure.erase_subject(crashed.subject, reference="DSR-2026-000001")
    reference = erasure.erase_subject(clean.subject, reference="DSR-2026-000002")

    def shape(person):
        return held(privacy.Subject(phone=person.subject.phone, user_id=person.user.pk))

    assert shape(crashed) == shape(clean)
    assert sorted((line.category, line.action, line.count) for line in rerun) == sorted(
        (line.category, line.action, line.count) for line in reference
    )
    assert not storages["recordings"].exists(crashed.recording.file)


@pytest.mark.obligation("P37")
def test_a_file_that_cannot_be_deleted_is_reported_and_retried(person, monkeypatch):
    storage = storages["recordings"]
    name = person.recording.file
    real_delete = type(storage).delete
    monkeypatch.setattr(type(storage), "delete", lambda self, n: (_ for _ in ()).throw(OSError("storage down")))

    lines = erasure.erase_subject(person.subject, reference=REFERENCE)

    recording_line = next(line for line in lines if line.category == "Call recording: recordings")
    assert "queued" in recording_line.note
    pending = StorageDeletion.objects.get(name=name)
    assert (pending.last_error, pending.reference, pending.model_label) == ("OSError", REFERENCE, "campaigns.Recording")
    assert storage.exists(name)

    monkeypatch.setattr(type(storage), "delete", real_delete)
    assert erasure.retry_pending_file_deletions() == {"deleted": 1, "still_pending": 0}
    assert not storage.exists(name)
    assert not StorageDeletion.objects.exists()


def test_erasure_is_audited_with_counts_only(person):
    since = last_sequence()

    erasure.erase_subject(person.subject, reference=REFERENCE)

    assert "compliance.subject_erased" in actions(since)


def test_someone_we_hold_nothing_on_gets_a_nothing_held_receipt(db):
    lines = erasure.erase_subject(privacy.Subject(email="nobody@example.org"), reference=REFERENCE)

    assert [line.action for line in lines] == ["nothing held"]


# --- Restriction and objection ---


@pytest.mark.obligation("P38")
def test_restriction_keeps_the_data_and_stops_the_calls(person):
    lines = erasure.restrict_subject(person.subject, reference=REFERENCE)

    consumer = Consumer.objects.get(pk=person.consumers[0].pk)
    assert consumer.restricted_at is not None
    assert call_refusals(consumer=consumer, contact_list=consumer.memberships.get().contact_list)
    assert {(line.organisation_id, line.action) for line in lines} == {
        (person.first.pk, "restricted"),
        (person.second.pk, "restricted"),
    }
    assert held(person.subject)["campaigns.Call"] == 2  # nothing deleted


@pytest.mark.obligation("P40", "P41")
def test_objection_suppresses_the_number_and_withdraws_consent(person):
    lines = erasure.object_for_subject(person.subject, withdraw_consent=True, reference=REFERENCE)

    for organisation, consumer in zip((person.first, person.second), person.consumers, strict=True):
        assert is_suppressed(organisation=organisation, phone=person.subject.phone)
        latest = ConsentRecord.objects.filter(consumer=consumer).order_by("-occurred_at", "-id").first()
        assert latest.action == ConsentRecord.Action.WITHDRAWN
    assert PlatformSuppression.objects.filter(phone_index=person.consumers[0].phone_index).exists()
    assert {line.action for line in lines} == {"suppressed"}


@pytest.mark.obligation("P40")
def test_an_objection_for_a_number_a_client_has_not_uploaded_yet_still_suppresses_it(person, other_organisation):
    erasure.object_for_subject(
        privacy.Subject(phone=person.subject.phone),
        organisation_ids={other_organisation.pk},
        withdraw_consent=False,
        reference=REFERENCE,
    )

    assert Suppression.objects.filter(organisation=other_organisation).count() == 1


# --- Rectification ---


@pytest.mark.obligation("P36")
def test_rectification_keeps_the_values_before_and_after_and_is_audited(person, compliance_officer):
    consumer = person.consumers[0]
    since = last_sequence()

    record = erasure.rectify_item(
        label="consumers.Consumer",
        pk=consumer.pk,
        changes={"name": "Ada Lovelace"},
        reference=REFERENCE,
        actor=compliance_officer,
    )

    consumer.refresh_from_db()
    assert consumer.name == "Ada Lovelace"
    assert json.loads(record.before) == {"name": "Customer of Acme Energy Ltd"}
    assert json.loads(record.after) == {"name": "Ada Lovelace"}
    assert record.organisation_id == person.first.pk
    assert "compliance.item_rectified" in actions(since)
    assert record in [item.obj for item in discovery.find(privacy.Subject(phone=person.subject.phone)).items]


@pytest.mark.obligation("P36")
def test_the_same_correction_twice_is_recorded_once(person, compliance_officer):
    kwargs = dict(label="consumers.Consumer", pk=person.consumers[0].pk, changes={"postcode": "SW1A 1AA"}, reference=REFERENCE)

    first = erasure.rectify_item(**kwargs, actor=compliance_officer)
    again = erasure.rectify_item(**kwargs, actor=compliance_officer)

    assert again == first
    assert Rectification.objects.count() == 1


def test_evidence_and_unknown_fields_cannot_be_rectified(person, compliance_officer):
    entry = ConsentRecord.objects.filter(consumer=person.consumers[0]).first()

    with pytest.raises(ValidationError, match="evidence"):
        erasure.rectify_item(
            label="consumers.ConsentRecord", pk=entry.pk, changes={"wording": "x"}, reference=REFERENCE, actor=None
        )
    with pytest.raises(ValidationError, match="no correctable field"):
        erasure.rectify_item(
            label="consumers.Consumer", pk=person.consumers[0].pk, changes={"organisation": "2"}, reference=REFERENCE, actor=None
        )
    with pytest.raises(ValidationError):
        erasure.rectify_item(
            label="consumers.Consumer",
            pk=person.consumers[0].pk,
            changes={"email": "not an address"},
            reference=REFERENCE,
            actor=None,
        )


@pytest.mark.obligation("P36", "P37")
def test_erasure_clears_the_values_kept_by_a_correction(person, compliance_officer):
    record = erasure.rectify_item(
        label="consumers.Consumer",
        pk=person.consumers[0].pk,
        changes={"name": "Ada L"},
        reference=REFERENCE,
        actor=compliance_officer,
    )

    erasure.erase_subject(person.subject, reference="DSR-2026-000124")

    record.refresh_from_db()
    assert (record.before, record.after, record.fields_changed) == (None, None, ["name"])


def test_the_daily_retention_run_retries_the_files_an_erasure_could_not_delete(person, monkeypatch):
    from compliance import retention

    storage = storages["recordings"]
    real_delete = type(storage).delete
    monkeypatch.setattr(type(storage), "delete", lambda self, n: (_ for _ in ()).throw(OSError("storage down")))
    erasure.erase_subject(person.subject, reference=REFERENCE)
    monkeypatch.setattr(type(storage), "delete", real_delete)

    assert retention.storage_retry() == (1, 0)
    assert retention.storage_retry() == (0, 0)
    assert not storage.exists(person.recording.file)


def test_compliance_staff_see_the_erasure_log_without_digests(client, person, compliance_officer):
    from tests.conftest import login

    erasure.erase_subject(person.subject, reference=REFERENCE)
    login(client, compliance_officer)

    for url in (
        "/admin/compliance/erasurelogentry/",
        "/admin/compliance/storagedeletion/",
        "/admin/compliance/rectification/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/compliance/erasurelogentry/{ErasureLogEntry.objects.get().pk}/change/").content.decode()
    assert REFERENCE in page and person.subject.phone not in page and "phone_index" not in page
