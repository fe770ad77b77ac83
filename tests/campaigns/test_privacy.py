"""Call data in the personal-data registry: a data-subject request finds it, erasure removes what
points at the person and keeps the counts, recordings live at most 6 months (P24, P31, P35, P37)."""

import pytest
from django.core.files.storage import storages

from campaigns.models import Call, CallResponse, Recording
from campaigns.telephony.simulator import Persona, example_number
from nextsupport import privacy
from tests.campaigns.conftest import launched
from tests.campaigns.test_calls import dial, play_all


@pytest.fixture
def recorded_call(organisation, owner, client, django_capture_on_commit_callbacks):
    campaign = launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE)], record_calls=True)
    dial(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        play_all(client)
    return campaign.calls.get()


@pytest.mark.obligation("P35")
def test_a_request_by_phone_number_finds_the_persons_calls_responses_and_recordings(recorded_call):
    subject = privacy.Subject(phone=example_number(Persona.COOPERATIVE))

    found = {r.label: r.rows_for(subject).count() for r in privacy.registrations() if r.model in (Call, CallResponse, Recording)}

    assert found == {"campaigns.Call": 1, "campaigns.CallResponse": 2, "campaigns.Recording": 1}
    exported = privacy.registration_for(Call).export(recorded_call)
    assert exported["transcript"] and exported["outcome"] == "completed_script"


@pytest.mark.obligation("P37", "P34")
def test_erasing_a_persons_calls_keeps_the_counts_and_nothing_that_points_at_them(recorded_call):
    recording = recorded_call.recording
    registration = privacy.registration_for(Call)

    registration.erase(registration.rows_for(privacy.Subject(phone=example_number(Persona.COOPERATIVE))))

    recorded_call.refresh_from_db()
    assert (recorded_call.transcript, recorded_call.consumer, recorded_call.phone_index) == (None, None, None)
    assert (recorded_call.outcome, recorded_call.duration_seconds > 0) == ("completed_script", True)
    assert not CallResponse.objects.filter(call=recorded_call).exists()
    assert not Recording.objects.filter(pk=recording.pk).exists()
    assert not storages["recordings"].exists(recording.file)


@pytest.mark.obligation("P31")
def test_recordings_are_kept_at_most_six_months():
    retention = privacy.registration_for(Recording).retention

    assert (retention.days, retention.after, retention.action) == (183, "created_at", privacy.Action.DELETE)


@pytest.mark.obligation("P24")
def test_transcripts_and_heard_answers_are_encrypted_at_rest(recorded_call):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT transcript FROM campaigns_call WHERE id = %s", [recorded_call.pk])
        transcript = bytes(cursor.fetchone()[0])
        cursor.execute("SELECT heard FROM campaigns_callresponse WHERE call_id = %s", [recorded_call.pk])
        heard = [bytes(row[0]) for row in cursor.fetchall()]
    assert b"automated" not in transcript and b"AI assistant" not in transcript
    assert all(b"yes" not in value for value in heard)
