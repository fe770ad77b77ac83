"""Writes to the platform's own models: the versioned policy documents (P53).

A published version is never edited: changing a policy means drafting the next
version and publishing it. Publishing is the one path that fixes a text,
announces it (nextsupport.signals.policy_published) and writes the audit event.
"""

import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from . import audit
from .models import PolicyDocument
from .selectors import POLICY_NOTICES_CACHE_KEY
from .signals import policy_published

POLICY_PUBLISHED = "policy.published"


@transaction.atomic
def policy_document_draft(
    *,
    kind: str,
    title: str,
    body: str,
    effective_date: datetime.date,
    summary_of_changes: str = "",
    significant_change: bool = False,
) -> PolicyDocument:
    """A new draft of `kind`, numbered after the highest version so far."""
    # Serialise numbering per kind: two staff drafting at once must not both get the same number.
    list(PolicyDocument.objects.select_for_update().filter(kind=kind).values_list("pk", flat=True))
    highest = PolicyDocument.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
    return PolicyDocument.objects.create(
        kind=kind,
        version=highest + 1,
        title=title,
        body=body,
        effective_date=effective_date,
        summary_of_changes=summary_of_changes,
        significant_change=significant_change,
    )


def policy_document_draft_from(*, document: PolicyDocument) -> PolicyDocument:
    """The next version of `document`'s kind, starting from its text (to be edited, then published)."""
    return policy_document_draft(
        kind=document.kind,
        title=document.title,
        body=document.body,
        effective_date=max(timezone.localdate(), document.effective_date),
    )


@transaction.atomic
def policy_document_publish(*, document: PolicyDocument, request=None, actor=None) -> PolicyDocument:
    """Fix the text of a draft and announce it; significant changes are e-mailed to clients by a receiver."""
    locked = PolicyDocument.objects.select_for_update().get(pk=document.pk)
    if locked.is_published:
        raise ValidationError(f"{locked} is already published; draft a new version to change it.")
    if not locked.body.strip():
        raise ValidationError(f"{locked} has no text: write the body before publishing.")
    if locked.significant_change and not locked.summary_of_changes.strip():
        raise ValidationError(
            f"{locked} is marked as a significant change: write a summary of changes for the notice and the e-mail."
        )
    newer = PolicyDocument.objects.filter(kind=locked.kind, version__gt=locked.version, status=PolicyDocument.Status.PUBLISHED)
    if newer.exists():
        raise ValidationError(f"{locked} is older than a version already published; draft a new version instead.")
    locked.status = PolicyDocument.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at"])
    audit.record(
        POLICY_PUBLISHED,
        request=request,
        actor=actor,
        target=locked,
        details={"kind": locked.kind, "version": locked.version, "significant_change": locked.significant_change},
    )
    transaction.on_commit(lambda: cache.delete(POLICY_NOTICES_CACHE_KEY))
    transaction.on_commit(lambda: policy_published.send(sender=PolicyDocument, document=locked))
    return locked
