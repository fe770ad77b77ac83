from celery import shared_task

from nextsupport import mail

from . import services


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_enquiry_acknowledgement(self, enquiry_id: int) -> bool:
    return mail.retrying(self, services.enquiry_acknowledge, enquiry_id=enquiry_id)


@shared_task(bind=True, max_retries=mail.RETRIES)
def send_enquiry_reply(self, reply_id: int) -> bool:
    return mail.retrying(self, services.enquiry_reply_send, reply_id=reply_id)


@shared_task
def purge_enquiries() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): enquiries past retention are deleted (P33). Safe to run twice."""
    return services.enquiries_purge_expired()


# --- Erasure (compliance.erasure) ---


@shared_task
def retry_file_deletions() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): stored files an erasure could not delete are tried again until gone. Safe to run twice."""
    from .erasure import retry_pending_file_deletions

    return retry_pending_file_deletions()
