import datetime

from django.core.cache import cache
from django.utils import timezone

from .models import PolicyDocument

# Significant changes are announced on the site for this long after they take effect (P53).
NOTICE_DAYS = 30
POLICY_NOTICES_CACHE_KEY = "nextsupport:policy-notices"
_NOTICES_CACHE_SECONDS = 300


def current_policy(kind: str) -> PolicyDocument | None:
    """The version of `kind` in force today: newest published, effective date reached."""
    return (
        PolicyDocument.objects.filter(kind=kind, status=PolicyDocument.Status.PUBLISHED, effective_date__lte=timezone.localdate())
        .order_by("-version")
        .first()
    )


def published_policy(kind: str, version: int) -> PolicyDocument | None:
    """One published version of `kind` (current or past), for the version archive."""
    return PolicyDocument.objects.filter(kind=kind, version=version, status=PolicyDocument.Status.PUBLISHED).first()


def policy_history(kind: str) -> list[PolicyDocument]:
    """Every published version of `kind`, newest first (future ones included: they are announced)."""
    return list(
        PolicyDocument.objects.filter(kind=kind, status=PolicyDocument.Status.PUBLISHED)
        .only("kind", "version", "title", "effective_date", "significant_change", "summary_of_changes", "status")
        .order_by("-version")
    )


def policy_notices() -> list[dict]:
    """Significant changes to announce on every page: published, and effective in the last NOTICE_DAYS
    or scheduled for the future. Cached briefly (every page renders this); publishing clears it."""
    notices = cache.get(POLICY_NOTICES_CACHE_KEY)
    if notices is None:
        since = timezone.localdate() - datetime.timedelta(days=NOTICE_DAYS)
        newest_per_kind = {}
        for doc in PolicyDocument.objects.filter(
            status=PolicyDocument.Status.PUBLISHED, significant_change=True, effective_date__gte=since
        ).order_by("kind", "-version"):
            newest_per_kind.setdefault(doc.kind, doc)
        notices = [
            {
                "kind": doc.kind,
                "title": doc.get_kind_display(),
                "version": doc.version,
                "effective_date": doc.effective_date,
                "summary": doc.summary_of_changes,
            }
            for doc in newest_per_kind.values()
        ]
        cache.set(POLICY_NOTICES_CACHE_KEY, notices, _NOTICES_CACHE_SECONDS)
    return notices
