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


# --- Breaches ---------------------------------------------------------------------------------


@shared_task
def alert_overdue_breach_steps() -> int:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): e-mail the team once per breach and overdue step (P44-P47)."""
    from . import breaches

    return breaches.breach_alert_overdue()
