"""Celery tasks of the consumers app: thin, idempotent, ids in."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def run_import(job_id: int) -> str:
    """Run or resume an import. Redelivery, a second worker or a re-run after a crash are all safe:
    the service takes a per-job lock and continues from the last committed chunk."""
    outcome = services.import_job_run(job_id=job_id)
    if outcome == "continue":
        # The time budget ran out (the file is very large): carry on in a fresh
        # task, well inside the broker's visibility timeout.
        run_import.delay(job_id)
    return outcome


@shared_task
def sweep_imports() -> dict:
    """Scheduled: restart imports whose worker vanished, discard uploads left at the mapping step."""
    result = services.import_jobs_sweep()
    if result["requeued"]:
        logger.warning("Re-queued %s stalled contact imports.", result["requeued"])
    return result
