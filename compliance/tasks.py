from collections.abc import Callable

from celery import shared_task

from . import services

MAIL_RETRIES = 5


def _send(task, send: Callable[..., bool], **ids) -> bool:
    """Run a sending service. A mail server that is down or busy gets another try later
    (1, 2, 4, 8, 16 minutes); a refusal does not."""
    try:
        return send(**ids)
    except Exception as exc:
        if services.is_transient_mail_error(exc) and task.request.retries < MAIL_RETRIES:
            raise task.retry(exc=exc, countdown=60 * 2**task.request.retries) from exc
        raise


@shared_task(bind=True, max_retries=MAIL_RETRIES)
def send_enquiry_acknowledgement(self, enquiry_id: int) -> bool:
    return _send(self, services.enquiry_acknowledge, enquiry_id=enquiry_id)


@shared_task(bind=True, max_retries=MAIL_RETRIES)
def send_enquiry_reply(self, reply_id: int) -> bool:
    return _send(self, services.enquiry_reply_send, reply_id=reply_id)


@shared_task
def purge_enquiries() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): enquiries past retention are deleted (P33). Safe to run twice."""
    return services.enquiries_purge_expired()
