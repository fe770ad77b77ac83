"""A worker that dies mid-file, a task delivered twice, two workers at once: nothing lost, nothing doubled."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from bench.import_worker import database_url
from consumers import importer, services, tasks
from consumers.models import Consumer, ImportJob, ImportProblem, ListMembership
from consumers.rows import suggest_mapping
from tests.consumers.conftest import csv_bytes, make_list, run_import, upload

ROOT = Path(__file__).resolve().parent.parent.parent


def sample_rows(count: int) -> list[list[str]]:
    """`count` rows: every 10th repeats the row before it, every 25th is not a number."""
    rows = []
    for i in range(count):
        if i % 25 == 24:
            rows.append(["not a number", f"Person {i}"])
        elif i % 10 == 9:
            rows.append([rows[-1][0], f"Person {i} again"])
        else:
            rows.append([f"020 7946 {i:04d}" if i < 10_000 else f"0113 496 {i - 10_000:04d}", f"Person {i}"])
    return rows


def outcome(job: ImportJob) -> dict:
    job.refresh_from_db()
    problem_rows = list(ImportProblem.objects.filter(job=job).values_list("row_number", flat=True))
    return {
        "status": job.status,
        "counts": (job.rows_read, job.created, job.updated, job.rejected, job.duplicates),
        "consumers": Consumer.objects.filter(organisation=job.organisation).count(),
        "memberships": ListMembership.objects.filter(contact_list=job.contact_list).count(),
        "problem_rows": sorted(problem_rows),
        "problems_unique": len(problem_rows) == len(set(problem_rows)),
    }


def queued(contact_list, owner, data: bytes) -> ImportJob:
    """An import started by its owner but not yet picked up by any worker."""
    job = services.import_job_create(contact_list=contact_list, upload=upload(data), uploaded_by=owner)
    # Celery runs tasks in-process under the test settings; here the worker is the test.
    with mock.patch.object(tasks.run_import, "delay_on_commit"):
        return services.import_job_start(job=job, mapping=suggest_mapping(job.columns), by=owner)


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way up handles it."""


def test_a_worker_dying_mid_chunk_loses_and_doubles_nothing_when_the_job_runs_again(
    organisation, owner, other_organisation, outsider, settings, monkeypatch
):
    settings.CONTACT_IMPORT_CHUNK_ROWS = 40
    data = csv_bytes(["Phone", "Name"], *sample_rows(200))
    reference = outcome(run_import(make_list(other_organisation, outsider), outsider, data))

    job = queued(make_list(organisation, owner), owner, data)
    real_advance = importer._advance_checkpoint
    calls = {"n": 0}

    def dies_on_the_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            # The chunk's rows, memberships and problems are written; the
            # checkpoint is next. The process dies here.
            raise WorkerDied
        return real_advance(*args, **kwargs)

    monkeypatch.setattr(importer, "_advance_checkpoint", dies_on_the_third_chunk)
    with pytest.raises(WorkerDied):
        services.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.checkpoint_row, job.rows_read) == (ImportJob.Status.IMPORTING, 81, 80)
    assert Consumer.objects.filter(organisation=organisation).count() == job.created  # two whole chunks, nothing of the third

    monkeypatch.setattr(importer, "_advance_checkpoint", real_advance)
    assert services.import_job_run(job_id=job.pk) == "done"  # the redelivered task

    assert outcome(job) == reference
    assert reference["counts"] == (200, 176, 0, 8, 16)
    job.refresh_from_db()
    assert job.attempts == 2


def test_a_finished_job_run_again_does_nothing(service_list, owner):
    job = run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    before = outcome(job)

    assert services.import_job_run(job_id=job.pk) == "done"

    assert outcome(job) == before


def _wait_for_backend_to_exit(pid: int) -> None:
    """A closed connection's server process exits (and drops its locks) a moment later, not at once."""
    for _ in range(100):
        with connection.cursor() as cursor:
            # pg_locks is read live (pg_stat_activity would be a snapshot fixed for this transaction).
            cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory'", [pid])
            if cursor.fetchone() is None:
                return
        time.sleep(0.05)


def test_a_second_worker_stays_out_while_the_first_holds_the_job(service_list, owner):
    job = queued(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", [importer._LOCK_CLASS, job.pk])
        other_pid = other_worker.info.backend_pid

        assert services.import_job_run(job_id=job.pk) == "busy"

    _wait_for_backend_to_exit(other_pid)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED and not Consumer.objects.exists()
    assert services.import_job_run(job_id=job.pk) == "done"  # the lock went with the other worker's connection


def test_a_very_large_file_hands_over_to_a_fresh_task_instead_of_hitting_the_time_limit(service_list, owner, settings):
    settings.CONTACT_IMPORT_CHUNK_ROWS = 10
    job = queued(service_list, owner, csv_bytes(["Phone", "Name"], *sample_rows(30)))

    assert services.import_job_run(job_id=job.pk, time_budget=-1) == "continue"  # one chunk, then out of time
    job.refresh_from_db()
    assert (job.checkpoint_row, job.attempts) == (11, 0)  # a clean hand-over is not a failed attempt
    assert services.import_job_run(job_id=job.pk) == "done"
    assert outcome(job)["counts"][0] == 30


def test_a_job_that_keeps_crashing_is_failed_with_a_message(service_list, owner, settings):
    job = queued(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    ImportJob.objects.filter(pk=job.pk).update(attempts=settings.CONTACT_IMPORT_MAX_ATTEMPTS)

    services.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.failure_reason == "We could not finish this import after several attempts. Please contact support."


def test_the_sweep_requeues_imports_whose_worker_vanished_and_discards_abandoned_uploads(service_list, owner, monkeypatch):
    import datetime

    from django.utils import timezone

    stalled = queued(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    fresh = queued(service_list, owner, csv_bytes(["Phone"], ["07412 345678"]))
    abandoned = services.import_job_create(
        contact_list=service_list, upload=upload(csv_bytes(["Phone"], ["0113 496 0000"])), uploaded_by=owner
    )
    long_ago = timezone.now() - datetime.timedelta(days=2)
    ImportJob.objects.filter(pk=stalled.pk).update(heartbeat_at=long_ago)
    ImportJob.objects.filter(pk=abandoned.pk).update(uploaded_at=long_ago)
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", sent.append)

    assert services.import_jobs_sweep() == {"requeued": 1, "discarded": 1}

    assert sent == [stalled.pk]
    assert not ImportJob.objects.filter(pk=abandoned.pk).exists()
    assert ImportJob.objects.filter(pk=fresh.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_killed_mid_import_is_resumed_without_loss_or_duplicates(
    organisation, owner, other_organisation, outsider
):
    """The real thing: SIGKILL to a separate worker process in the middle of the file."""
    data = csv_bytes(["Phone", "Name"], *sample_rows(12_000))
    job = queued(make_list(organisation, owner), owner, data)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "CONTACT_IMPORT_CHUNK_ROWS": "250",
        "DJANGO_SETTINGS_MODULE": "nextsupport.settings.test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bench.import_worker", "ours", str(settings.MEDIA_ROOT), str(job.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.checkpoint_row > 1000:
                break
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING, "the worker finished before it could be killed"
    assert 1000 < job.checkpoint_row < 12_001

    # PostgreSQL ends the dead worker's session (and frees its lock) once it
    # notices the connection is gone; the redelivered task comes after that.
    deadline = time.monotonic() + 30
    while services.import_job_run(job_id=job.pk) == "busy" and time.monotonic() < deadline:
        time.sleep(0.1)

    reference = outcome(run_import(make_list(other_organisation, outsider), outsider, data))
    assert outcome(job) == reference
    assert reference["counts"] == (12_000, 10_560, 0, 480, 960)
