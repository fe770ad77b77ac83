from django import template
from django.urls import reverse

from nextsupport import documents

from ..views import LEGAL_SLUGS

register = template.Library()

# /legal/<slug>/ for each agreement kind: the view's own table, read the other way.
_SLUGS = {kind: slug for slug, kind in LEGAL_SLUGS.items()}


@register.filter
def can(membership, capability: str) -> bool:
    """{% if request.membership|can:"manage_members" %}: what the member's role allows."""
    return membership is not None and membership.can(capability)


@register.filter
def legal_url(document) -> str:
    """Where a Terms/DPA version can be read: /legal/<slug>/?version=N."""
    return f"{reverse('accounts:legal-document', args=[_SLUGS[document.kind]])}?version={document.version}"


@register.filter
def legal_blocks(document):
    """The document's text as headings, paragraphs and lists (nextsupport.documents)."""
    return documents.parse(document.body)[1]


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


@register.filter
def browser_summary(user_agent: str | None) -> str:
    """'Chrome on Windows' from a User-Agent header, for people to recognise their sessions."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for token, name in _BROWSERS if token in user_agent), "A browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return f"{browser} on {system}" if system else browser
