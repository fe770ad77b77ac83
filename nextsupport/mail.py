"""Every e-mail the platform sends goes through here: once, never silently lost.

    send_once(rows, send=...)   claim the e-mail with a conditional UPDATE (`sending_since`),
                                send it, then mark it sent. Two workers, or a task the broker
                                hands out twice, never both send it. A failure releases the
                                claim and records the kind of error (never its text, which
                                can hold the address), and is raised again for the task.
    retrying(task, work, ...)   the task's side: a mail server that is down or busy (4xx,
                                unreachable) gets another try later, 1, 2, 4, 8 then 16 minutes
                                on; a refusal (5xx) or a bug does not, and stays visible.

A worker that dies in the middle of sending leaves the claim set: the e-mail may
have left, so it is not sent again by itself (at most once), and staff can see it.

The rows are whatever records the e-mail: a Notice (accounts), an enquiry's
acknowledgement, a reply. Their fields are named by the caller. Links in e-mails
start with `absolute()`, from the one SITE_URL setting.
"""

import smtplib
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

RETRIES = 5
SUBJECT_PREFIX = "NextSupport: "


def absolute(path: str) -> str:
    """The address of `path` as the platform serves it (portal and public site alike)."""
    return settings.SITE_URL.rstrip("/") + path


def render(template: str, context: dict) -> tuple[str, str]:
    """(subject, body) from `<template>_subject.txt` and `<template>_message.txt`."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), "compliance_email": settings.COMPLIANCE_EMAIL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    return SUBJECT_PREFIX + subject.removeprefix(SUBJECT_PREFIX), render_to_string(f"{template}_message.txt", context)


def send(*, to: str, subject: str, body: str) -> None:
    """One message to one recipient: never a shared To: line, so addresses stay private."""
    EmailMessage(subject=subject, body=body, to=[to]).send()


def send_once(
    rows, *, send: Callable[[], None], sent: str = "sent_at", sending: str = "sending_since", error: str = "send_error"
) -> bool:
    """Send at most once, and record it as sent only once it left; False when it was sent (or is being sent) already."""
    claimed = rows.filter(**{f"{sent}__isnull": True, f"{sending}__isnull": True}).update(**{sending: timezone.now()})
    if not claimed:
        return False
    try:
        send()
    except Exception as exc:
        rows.update(**{sending: None, error: failure(exc)})
        raise
    rows.update(**{sent: timezone.now(), sending: None, error: ""})
    return True


def failure(exc: Exception) -> str:
    # The kind of error and its SMTP code: enough for staff, never the text (it can name the address).
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__} (SMTP {code})" if code else type(exc).__name__


def is_transient(exc: Exception) -> bool:
    """Whether trying again later may succeed: the server was unreachable or answered 4xx."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError))


def retrying(task, work: Callable, **ids):
    """Run a sending function from a bound task (`max_retries=RETRIES`), retrying transient failures with backoff."""
    try:
        return work(**ids)
    except Exception as exc:
        if is_transient(exc) and task.request.retries < RETRIES:
            raise task.retry(exc=exc, countdown=60 * 2**task.request.retries) from exc
        raise
