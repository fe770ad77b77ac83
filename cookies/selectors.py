"""Reads for the banner and the cookie policy (the consent log is read in the admin).

Every public page renders the banner, so what it needs (register, policy
version) is cached and cleared when the register or the cookie policy changes.
"""

import hashlib
import threading
import time
from functools import cache

from django.core.cache import cache as django_cache
from django.template.loader import get_template

from nextsupport.models import PolicyDocument
from nextsupport.selectors import current_policy

from .models import CATEGORY_DESCRIPTIONS, OPTIONAL_CATEGORIES, Category, RegisterEntry

BANNER_CACHE_KEY = "cookies:banner-context"
_BANNER_CACHE_SECONDS = 300
# The templates whose wording a visitor reads before choosing; their fingerprint is the banner text version.
BANNER_TEMPLATES = ("cookies/banner.html", "cookies/preferences.html")


def register_by_category() -> list[dict]:
    """The register grouped by category, strictly necessary first; empty categories left out."""
    entries = list(RegisterEntry.objects.all())
    groups = []
    for value, label in Category.choices:
        members = [e for e in entries if e.category == value]
        if members:
            groups.append(
                {
                    "value": value,
                    "label": label,
                    "description": CATEGORY_DESCRIPTIONS[value],
                    "optional": value in OPTIONAL_CATEGORIES,
                    "entries": members,
                }
            )
    return groups


def banner_context() -> dict:
    """Register, optional categories and cookie policy version, cached for every page."""
    context = django_cache.get(BANNER_CACHE_KEY)
    if context is None:
        policy = current_policy(PolicyDocument.Kind.COOKIES)
        groups = register_by_category()
        context = {
            "groups": groups,
            "optional": [g for g in groups if g["optional"]],
            "policy_version": policy.version if policy else 0,
            # What consent.js deletes on withdrawal, per category.
            "cookie_names": {
                g["value"]: [
                    {"name": e.name, "prefix": e.matches_prefix} for e in g["entries"] if e.kind == RegisterEntry.Kind.COOKIE
                ]
                for g in groups
                if g["optional"]
            },
        }
        django_cache.set(BANNER_CACHE_KEY, context, _BANNER_CACHE_SECONDS)
    return context


@cache
def banner_version() -> str:
    """A fingerprint of the banner and preferences-centre wording, recorded with each choice.

    It changes by itself whenever the templates change, so a record always names
    the exact text shown (recoverable from the repository history by fingerprint).
    """
    digest = hashlib.sha256()
    for name in BANNER_TEMPLATES:
        digest.update(get_template(name).template.source.encode())
    return digest.hexdigest()[:12]


class _PublishedVersions:
    """The published cookie-policy versions, held in process memory.

    The consent endpoint is hit on every first visit: it must not query for this
    each time. Publishing is final (a version is never unpublished), so a known
    version stays valid. An unknown one (just published, or made up) refreshes
    the list at most once per REFRESH_SECONDS, so made-up versions cannot send
    each request to the database; the process that publishes forgets the list at
    once (cookies.receivers), the others see a new version within the interval.
    """

    REFRESH_SECONDS = 30.0

    def __init__(self):
        self.versions: frozenset[int] = frozenset()
        self.refreshed_at = float("-inf")
        self.lock = threading.Lock()

    def contains(self, version: int) -> bool:
        if version in self.versions:
            return True
        with self.lock:
            if time.monotonic() - self.refreshed_at >= self.REFRESH_SECONDS:
                self.versions = frozenset(
                    PolicyDocument.objects.filter(
                        kind=PolicyDocument.Kind.COOKIES, status=PolicyDocument.Status.PUBLISHED
                    ).values_list("version", flat=True)
                )
                self.refreshed_at = time.monotonic()
        return version in self.versions

    def forget(self):
        with self.lock:
            self.versions = frozenset()
            self.refreshed_at = float("-inf")


published_cookie_policy_versions = _PublishedVersions()
