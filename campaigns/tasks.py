"""Celery tasks of the campaigns app: thin, ids in."""

from celery import shared_task

from .telephony import simulator


@shared_task(name="campaigns.tasks.simulate_call")
def simulate_call(sid: str) -> None:
    """Play a call placed with the simulator. On the "simulator" queue: a call keeps its worker
    busy for as long as it would last on the phone. A redelivery plays nothing twice."""
    simulator.play_call(sid)


@shared_task(name="campaigns.tasks.simulate_caller_id_validation")
def simulate_caller_id_validation(reference: str) -> None:
    """The simulated person at a caller ID being validated keys in the code (on the "simulator" queue)."""
    simulator.play_caller_id_validation(reference)
