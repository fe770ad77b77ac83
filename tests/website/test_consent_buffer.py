"""The spool stage of the consent log: each record is appended to a spool file before the
answer, reaches the table from a background thread, and waits on disk while the table cannot
be reached; a dead process's spool is written by whoever finds it, once."""

import fcntl
import json
import os
import time
import uuid

import pytest
from django.db import OperationalError
from django.utils import timezone

from cookies import buffer
from cookies.models import ConsentRecord
from tests.website.conftest import post, wait_for

# The thread writes with its own database connection: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def write_behind(settings, redis_buffer, site_content):
    settings.COOKIE_CONSENT_WRITE_BEHIND = True
    yield
    buffer._spool.discard()


@pytest.mark.obligation("P18")
def test_a_choice_reaches_the_table_from_the_background_without_a_flush(client, choice, write_behind):
    response = post(client, choice)

    assert response.status_code == 201
    assert wait_for(lambda: ConsentRecord.objects.count() == 1)  # written by the thread, not the request
    assert buffer._spool.thread.is_alive()
    assert str(ConsentRecord.objects.get().consent_id) == response.json()["consent_id"]
    assert buffer._spool.waiting() == 0


@pytest.mark.obligation("P18")
def test_while_the_table_cannot_be_reached_choices_wait_in_the_spool(client, choice, write_behind, monkeypatch):
    def database_down(lines):
        raise OperationalError("the database is restarting")

    monkeypatch.setattr(buffer, "write", database_down)
    answers = [post(client, choice), post(client, {**choice, "categories": []})]
    time.sleep(buffer._Spool.INTERVAL * 2.5)  # the thread tried, failed, and left them on disk

    assert [a.status_code for a in answers] == [201, 201]
    assert buffer._spool.waiting() == 2
    monkeypatch.undo()
    buffer.flush()
    assert sorted(ConsentRecord.objects.values_list("categories", flat=True)) == [[], ["analytics"]]
    assert buffer._spool.waiting() == 0


@pytest.mark.obligation("P14", "P18")
def test_a_dead_processs_spool_is_written_once_and_a_live_processs_is_left_to_it(settings, tmp_path):
    # Given the spool folder of a host: a file whose process died mid-write, and one whose process lives
    settings.COOKIE_CONSENT_SPOOL_DIR = tmp_path
    stage = buffer._Spool()
    folder = stage.folder()
    folder.mkdir(parents=True)
    dead, alive = [buffer._encode(waiting_choice()) for _ in range(2)], buffer._encode(waiting_choice())
    (folder / "111-dead.spool").write_text("\n".join(dead) + '\n["cut off mid-wri')
    (folder / "222-alive.spool").write_text(alive + "\n")
    holder = os.open(folder / "222-alive.spool", os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as its living process holds it

    # When a process looks for work, twice
    written = []
    stage.drain(ship=written.extend)
    stage.drain(ship=written.extend)

    # Then the dead process's complete records are written once, and the living process's file is untouched
    os.close(holder)
    assert written == dead
    assert not (folder / "111-dead.spool").exists()
    assert (folder / "222-alive.spool").read_text() == alive + "\n"


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
