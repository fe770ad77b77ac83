"""The spool stage of the consent log: each record is appended to a spool file before the
answer, reaches Redis from a background thread, and is never lost when Redis is down."""

import json
import threading
import time
import uuid

import pytest
from django.utils import timezone

from cookies import buffer
from cookies.models import ConsentRecord
from tests.website.conftest import post, wait_for


@pytest.fixture
def write_behind(settings):
    settings.COOKIE_CONSENT_WRITE_BEHIND = True
    yield
    buffer._spool.discard()


@pytest.mark.obligation("P18")
def test_a_choice_reaches_redis_from_the_background_and_the_table_on_flush(client, db, choice, redis_buffer, write_behind):
    response = post(client, choice)

    assert response.status_code == 201
    queue, _, _ = buffer._keys()
    assert wait_for(lambda: redis_buffer.llen(queue) == 1)  # moved by the thread, not the request
    assert buffer._spool.thread.is_alive()
    assert ConsentRecord.objects.count() == 0
    assert buffer.flush() == 1
    assert str(ConsentRecord.objects.get().consent_id) == response.json()["consent_id"]


@pytest.mark.obligation("P18")
def test_with_redis_down_waiting_choices_are_written_directly_when_flushed(client, db, choice, settings, write_behind):
    settings.COOKIE_CONSENT_BUFFER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    post(client, choice)
    post(client, {**choice, "categories": []})
    time.sleep(buffer._Spool.INTERVAL * 3)  # the thread tried Redis, failed, and kept them

    assert buffer._spool.waiting() == 2
    buffer.flush()
    assert sorted(ConsentRecord.objects.values_list("categories", flat=True)) == [[], ["analytics"]]
    assert buffer._spool.waiting() == 0


@pytest.mark.obligation("P18")
def test_a_flush_that_finds_records_waiting_in_the_process_and_a_long_queue_completes(redis_buffer, monkeypatch):
    # As at a web process's exit: records wait in the spool, and moving them makes the queue long enough
    # for an inline flush. That flush must not wait for the move that started it.
    written = []
    with monkeypatch.context() as patch:  # undone before the fixtures' teardown touches the stage
        stage = buffer._Spool()
        patch.setattr(buffer, "_spool", stage)
        patch.setattr(buffer, "FLUSH_AT", 2)
        patch.setattr(buffer, "write", written.extend)  # the table's side is not what is tested here
        for _ in range(3):
            stage.add(buffer._encode(waiting_choice()))

        flusher = threading.Thread(target=buffer.flush, daemon=True)
        flusher.start()
        flusher.join(timeout=10)
        finished, left = not flusher.is_alive(), buffer.waiting()

    assert finished, "the flush deadlocked on the write-behind stage's own lock"
    assert len(written) == len(set(written)) == 3
    assert left == 0


def waiting_choice() -> buffer.LoggedChoice:
    return buffer.LoggedChoice(
        id=uuid.uuid4(),
        consent_id=uuid.uuid4(),
        categories=["analytics"],
        policy_version=1,
        banner_version="0123456789ab",
        gpc=False,
        ip_hash="",
        created_at=timezone.now(),
    )


def test_a_record_is_written_as_the_json_the_table_reads():
    choice = waiting_choice()

    decoded = json.loads(buffer._encode(choice))

    assert decoded == [
        choice.id.hex,
        choice.consent_id.hex,
        ["analytics"],
        1,
        "0123456789ab",
        False,
        "",
        choice.created_at.timestamp(),
    ]
