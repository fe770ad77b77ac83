from celery import shared_task

from nextsupport import mail

from . import retention, services


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
