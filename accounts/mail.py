"""E-mails the accounts app sends: one message per recipient, rendered from
templates/accounts/email/<name>_subject.txt and <name>_message.txt."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def send(name: str, recipients: list[str], context: dict) -> int:
    """Send one message to each recipient (never a shared To: line: addresses stay private)."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), "compliance_email": settings.COMPLIANCE_EMAIL, **context}
    subject = " ".join(render_to_string(f"accounts/email/{name}_subject.txt", context).split())
    body = render_to_string(f"accounts/email/{name}_message.txt", context)
    for recipient in recipients:
        EmailMessage(subject=f"NextSupport: {subject}", body=body, to=[recipient]).send()
    return len(recipients)
