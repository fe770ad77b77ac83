"""Celery tasks of the campaigns app: thin, idempotent, ids in.

The dispatcher runs every few seconds from beat; each allowed contact becomes a
`place_call` task, which claims its Call with a conditional UPDATE, so a task
delivered twice dials once.
"""

import logging

from celery import shared_task

from . import calls, client_webhooks, dispatcher, statements, telephony
from .telephony import simulator
from .telephony.base import ProviderError

logger = logging.getLogger(__name__)


@shared_task
def dispatch() -> dict:
    """Scheduled: one dispatcher tick. Safe under several workers (campaigns and contacts are claimed)."""
    report = dispatcher.dispatch_due()
    return {"campaigns": report.campaigns, "dialled": report.dialled, "deferred": report.deferred, "refused": report.refused}


@shared_task
def reconcile_calls() -> dict:
    """Scheduled: calls the provider never reported back on."""
    result = dispatcher.reconcile_stale()
    if result["failed"] or result["requeued"]:
        logger.warning("Reconciled stale calls: %s", result)
    return result


@shared_task
def build_usage_statements() -> int:
    """Scheduled daily: last month's statements (P12). Only the first run after a month closes builds
    anything; each statement is e-mailed once."""
    return len(statements.usage_statements_build())


@shared_task
def place_call(call_id: int) -> str:
    return calls.call_place(call_id=call_id)


@shared_task(bind=True, max_retries=6)
def store_recording(self, recording_id: int) -> str:
    """Fetch a recording into our storage and delete the provider's copy; retried with backoff while the provider fails."""
    try:
        return calls.recording_store(recording_id=recording_id)
    except ProviderError as exc:
        if exc.permanent:
            raise
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(bind=True, max_retries=6)
def delete_provider_recording(self, provider: str, recording_sid: str) -> str:
    """A recording nobody asked for (the call was not to be recorded) is deleted at the provider."""
    try:
        telephony.provider(provider).delete_recording(recording_sid)
    except ProviderError as exc:
        if exc.permanent:
            raise
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
    return "deleted"


@shared_task(name="campaigns.tasks.simulate_call")
def simulate_call(sid: str) -> None:
    """Play a call placed with the simulator. On the "simulator" queue: a call keeps its worker
    busy for as long as it would last on the phone. A redelivery plays nothing twice."""
    simulator.play_call(sid)


@shared_task(name="campaigns.tasks.simulate_caller_id_validation")
def simulate_caller_id_validation(reference: str) -> None:
    """The simulated person at a caller ID being validated keys in the code (on the "simulator" queue)."""
    simulator.play_caller_id_validation(reference)


@shared_task
def send_client_webhook(delivery_id: int) -> str:
    """One attempt of an outbound webhook. A redelivered task, or one for a delivered row, does nothing (the row is claimed)."""
    return client_webhooks.delivery_send(delivery_id=delivery_id)


@shared_task
def retry_client_webhooks() -> int:
    """Scheduled: outbound webhooks whose retry time has come go back to the workers."""
    return client_webhooks.deliveries_enqueue_due()
