from celery import shared_task

from nextsupport import mail

from . import requests, retention, services


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_enquiry_acknowledgement(self, enquiry_id: int) -> bool:
    return mail.retrying(self, services.enquiry_acknowledge, enquiry_id=enquiry_id)


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_enquiry_reply(self, reply_id: int) -> bool:
    return mail.retrying(self, services.enquiry_reply_send, reply_id=reply_id)


# --- Retention (compliance.retention) ---


@shared_task
def retention_purge() -> int | None:
    """Daily (CELERY_BEAT_SCHEDULE): every retention rule of the registry (P29-P34).

    Safe to run twice or on two workers: an advisory lock lets one run at a
    time, and a run killed part-way is finished by the next one.
    """
    run = retention.purge()
    return run and run.pk


@shared_task
def retention_minors_sweep() -> int | None:
    """Hourly (CELERY_BEAT_SCHEDULE): consumers found to be under 16 are deleted at once (P48)."""
    run = retention.minors_sweep()
    return run and run.pk


# --- Data-subject requests (compliance.requests) ---


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_request_challenge(self, challenge_id: int) -> bool:
    return mail.retrying(self, requests.challenge_send, challenge_id=challenge_id)


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_request_message(self, message_id: int) -> bool:
    return mail.retrying(self, requests.message_send, message_id=message_id)


@shared_task
def process_request(request_id: int) -> bool:
    """After verification: discovery and the actions, once (a conditional UPDATE claims it)."""
    return requests.request_process(request_id=request_id)


@shared_task
def expire_request_copies() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): copies of the data go 30 days after their request ended. Safe to run twice."""
    return requests.request_copies_expire()


@shared_task
def alert_request_deadlines() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): the compliance team hears once per request and state (overdue, due soon)."""
    queued = requests.alerts_queue()
    for message_id in queued:
        send_request_message.delay(message_id)
    return len(queued)


# --- Breaches ---------------------------------------------------------------------------------


@shared_task
def alert_overdue_breach_steps() -> int:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): e-mail the team once per breach and overdue step (P44-P47)."""
    from . import breaches

    return breaches.breach_alert_overdue()
