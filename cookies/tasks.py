from celery import shared_task

from . import services


@shared_task
def flush_consent_buffer() -> int:
    """Every few seconds (CELERY_BEAT_SCHEDULE): buffered consent records into the table. Safe to run twice."""
    return services.consent_buffer_flush()
