"""The retention engine: every rule of the personal-data registry, run on time (P29-P34, P48).

One purge for every model: it reads the registry (nextsupport.privacy), never
a list of its own, so a model that holds personal data cannot escape it
(check_registry refuses an unregistered one). Compliance staff may shorten a
period (RetentionRule); legal holds keep what they name.

How it stays safe at scale and under faults:
- bounded batches, each in its own short transaction, claimed with
  FOR UPDATE SKIP LOCKED: nothing waits on the purge and the purge waits on nothing;
- deletes and anonymisation are set-based (one statement per batch), never a
  Python loop over the rows;
- a stored file is queued for deletion (StorageDeletion) in the transaction that
  deletes its row, then deleted and checked gone; one that cannot be deleted
  stays queued, is retried by every run and is counted on the receipt;
- a session advisory lock: a second run at the same time does nothing;
- every batch commits its receipt counts with its work, so a run killed at any
  point and run again ends in exactly the state of one uninterrupted run.
"""

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from nextsupport import audit, privacy

from . import events
from .models import LegalHold, RetentionReceipt, RetentionRule, RetentionRun, StorageDeletion

logger = logging.getLogger(__name__)

PURGE_LOCK = 0x4E53_5250  # "NSRP"
MINORS_LOCK = 0x4E53_524D  # "NSRM"

# Rules run in this order: what hangs off a consumer goes before the consumer,
# so deleting consumers cascades into as little as possible.
_ORDER = [
    privacy.Category.RECORDING,
    privacy.Category.CALL_INTERACTION,
    privacy.Category.CONSUMER,
    privacy.Category.CONSENT,
    privacy.Category.FORM_SUBMISSION,
    privacy.Category.COOKIE_CONSENT,
    privacy.Category.DATA_SUBJECT_REQUEST,
    privacy.Category.CLIENT_CONTACT,
    privacy.Category.CLIENT_ACCOUNT,
    privacy.Category.SUPPRESSION,
    privacy.Category.SECURITY_LOG,
]

# Evidence the database refuses to delete unless the transaction says the purge is at work.
_DELETE_ALLOWED_BY = {
    "consumers.ConsentRecord": "nextsupport.allow_ledger_delete",
    "consumers.LawfulBasisAttestation": "nextsupport.allow_attestation_delete",
}


def batch_size() -> int:
    """The most rows one transaction takes (the audit purge always takes this many)."""
    return settings.RETENTION_BATCH_SIZE


# --- Rules ----------------------------------------------------------------------------------


def rules_sync() -> None:
    """One RetentionRule per registration (new registrations get the policy's period)."""
    labels = [registration.label for registration in privacy.registrations()]
    RetentionRule.objects.bulk_create([RetentionRule(model_label=label) for label in labels], ignore_conflicts=True)


def rules() -> list[tuple[privacy.Registration, RetentionRule]]:
    """Every registration that a purge runs, with its rule, in purge order."""
    rules_sync()
    by_label = {rule.model_label: rule for rule in RetentionRule.objects.all()}
    runnable = [r for r in privacy.registrations() if r.retention.runs]
    runnable.sort(key=lambda r: (_ORDER.index(r.category), r.label))
    return [(registration, by_label[registration.label]) for registration in runnable]


# --- Holds ----------------------------------------------------------------------------------


def _path_to(model, target, depth: int = 3) -> str | None:
    """The shortest forward foreign-key path from `model` to `target` ("pk" for the model itself)."""
    if model is target:
        return "pk"
    frontier = [(model, "")]
    for _ in range(depth):
        following = []
        for current, prefix in frontier:
            for field in current._meta.concrete_fields:
                if field.many_to_one or field.one_to_one:
                    path = f"{prefix}{field.name}"
                    if field.related_model is target:
                        return path
                    following.append((field.related_model, f"{path}__"))
        frontier = following
    return None


def held(registration: privacy.Registration, now: datetime.datetime | None = None) -> models.Q | None:
    """The rows of `registration` that an active legal hold covers, as a condition; None when none are."""
    holds = list(LegalHold.objects.active(now))
    condition = models.Q()
    organisations = {hold.organisation_id for hold in holds if hold.scope == LegalHold.Scope.ORGANISATION}
    if organisations and registration.organisation:
        condition |= models.Q(**{f"{registration.organisation}__in": organisations})
    consumers = {hold.consumer_id for hold in holds if hold.scope == LegalHold.Scope.CONSUMER}
    if consumers and (path := _path_to(registration.model, apps.get_model("consumers", "Consumer"))):
        condition |= models.Q(**{f"{path}__in": consumers})
    objects = defaultdict(set)
    for hold in holds:
        if hold.scope == LegalHold.Scope.OBJECT:
            objects[hold.target_model.lower()].add(hold.target_id)
    for label, ids in objects.items():
        try:
            target = apps.get_model(label)
        except LookupError:
            continue
        if path := _path_to(registration.model, target):
            condition |= models.Q(**{f"{path}__in": list(ids)})
    return condition or None


def held_organisations(now: datetime.datetime | None = None) -> set[int]:
    return set(LegalHold.objects.active(now).filter(scope=LegalHold.Scope.ORGANISATION).values_list("organisation_id", flat=True))


# --- What would go --------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    category: str
    model_label: str
    action: str
    days: int
    due: int
    held: int


def preview(*, now: datetime.datetime | None = None, labels: set[str] | None = None) -> list[Preview]:
    """The dry run: per rule, how many rows a purge now would delete or anonymise, and how many are held."""
    now = now or timezone.now()
    found = []
    for registration, rule in rules():
        if labels is not None and registration.label not in labels:
            continue
        expired = registration.expired(now, days=rule.effective_days)
        holding = held(registration, now)
        on_hold = expired.filter(holding).count() if holding is not None else 0
        due = (expired.exclude(holding) if holding is not None else expired).count()
        found.append(
            Preview(registration.category, registration.label, registration.retention.action, rule.effective_days, due, on_hold)
        )
    return found


# --- The purge ------------------------------------------------------------------------------


@contextmanager
def _session_lock(key: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def purge(*, now: datetime.datetime | None = None, started_by: str = "task:retention_purge") -> RetentionRun | None:
    """Run every rule once. Returns the run, or None when another run holds the lock (it does the work)."""
    with _session_lock(PURGE_LOCK) as acquired:
        if not acquired:
            return None
        run = _start(RetentionRun.Kind.PURGE, started_by)
        storage_retry()
        for registration, rule in rules():
            try:
                _purge_rule(run, registration, rule, now or timezone.now())
            except Exception as error:
                # One rule's fault (a row another table protects) must not stop the others.
                logger.exception("Retention rule for %s stopped part-way.", registration.label)
                RetentionReceipt.objects.filter(run=run, model_label=registration.label).update(error=type(error).__name__)
        return _finish(run)


def _start(kind: str, started_by: str) -> RetentionRun:
    # Holding the lock, no other run is alive: one still "running" died.
    RetentionRun.objects.filter(kind=kind, status=RetentionRun.Status.RUNNING).update(
        status=RetentionRun.Status.INTERRUPTED, finished_at=timezone.now()
    )
    return RetentionRun.objects.create(kind=kind, started_by=started_by)


def _finish(run: RetentionRun) -> RetentionRun:
    totals = run.receipts.aggregate(
        deleted=models.Sum("deleted"),
        anonymised=models.Sum("anonymised"),
        held=models.Sum("held"),
        skipped=models.Sum("skipped"),
        files_pending=models.Sum("files_pending"),
    )
    with transaction.atomic():
        run.status, run.finished_at = RetentionRun.Status.COMPLETED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        audit.record(
            events.RETENTION_RUN if run.kind == RetentionRun.Kind.PURGE else events.MINORS_SWEPT,
            actor_label=run.started_by[:100],
            target=run,
            details={"run": run.pk, **{name: value or 0 for name, value in totals.items()}},
        )
    return run


def _purge_rule(run: RetentionRun, registration: privacy.Registration, rule: RetentionRule, now) -> None:
    started = time.monotonic()
    receipt, _ = RetentionReceipt.objects.get_or_create(
        run=run,
        model_label=registration.label,
        defaults={"category": registration.category, "action": registration.retention.action},
    )
    expired = registration.expired(now, days=rule.effective_days)
    holding = held(registration, now)
    if holding is not None:
        receipt.held = expired.filter(holding).count()
        expired = expired.exclude(holding)
    if registration.purger:
        _run_purger(registration, rule, receipt, now)
    else:
        _purge_in_batches(registration, expired, receipt)
        receipt.skipped = expired.count()  # what is still due: rows other work had locked
    receipt.files_pending = StorageDeletion.objects.filter(model_label=registration.label).count()
    receipt.seconds = time.monotonic() - started
    receipt.save(update_fields=["held", "skipped", "files_pending", "seconds"])


def _purge_in_batches(registration, expired: models.QuerySet, receipt: RetentionReceipt) -> None:
    # A key cursor: each batch starts after the last one, so the loop ends even
    # for rows an anonymisation leaves matching (a value computed in Python).
    after, size = None, _FIRST_BATCH
    while True:
        started = time.monotonic()
        with transaction.atomic():
            claim = expired.order_by("pk")
            if after is not None:
                claim = claim.filter(pk__gt=after)
            pks = list(claim.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:size])
            if not pks:
                return
            _apply(registration, pks, receipt)
        after, size = pks[-1], _next_size(size, time.monotonic() - started)
        if registration.files:
            storage_retry(registration.label)


# Batches start small and grow while they stay quick, up to RETENTION_BATCH_SIZE; one
# that takes too long halves the next: rows differ so much in what their delete
# cascades into that no fixed size keeps every transaction short.
_FIRST_BATCH = 100


def _next_size(size: int, seconds: float) -> int:
    target = settings.RETENTION_BATCH_SECONDS
    if seconds > target:
        return max(10, size // 2)
    if seconds < target / 2:
        return min(batch_size(), size * 2)
    return min(batch_size(), size)


def _apply(registration: privacy.Registration, pks: list, receipt: RetentionReceipt) -> None:
    rows = models.QuerySet(registration.model).filter(pk__in=pks)
    if registration.retention.action == privacy.Action.ANONYMISE:
        count = privacy.anonymise(registration, rows)
        RetentionReceipt.objects.filter(pk=receipt.pk).update(anonymised=F("anonymised") + count)
        return
    _queue_files(registration, rows)
    with _deletes_allowed(_DELETE_ALLOWED_BY.get(registration.label)):
        # A plain QuerySet: the model's own manager may refuse deletes (append-only evidence).
        count = rows.delete()[1].get(registration.label, 0)
    RetentionReceipt.objects.filter(pk=receipt.pk).update(deleted=F("deleted") + count)


@contextmanager
def _deletes_allowed(guard: str | None) -> Iterator[None]:
    """Within this batch only, the database lets this evidence be deleted (its trigger reads `guard`)."""
    if guard is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [guard])
    yield
    # Off again at once, not only at commit: an enclosing transaction must not inherit it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'off', true)", [guard])


def _run_purger(registration, rule, receipt: RetentionReceipt, now) -> None:
    purger = import_string(registration.purger)
    cutoff = registration.retention.cutoff(now, days=rule.effective_days)
    while removed := purger(cutoff, batch_size(), held_organisations=held_organisations(now)):
        RetentionReceipt.objects.filter(pk=receipt.pk).update(deleted=F("deleted") + removed)
    receipt.refresh_from_db(fields=["deleted"])


# --- Stored files ---------------------------------------------------------------------------


def _queue_files(registration: privacy.Registration, rows: models.QuerySet) -> None:
    for field_name, alias in registration.files.items():
        names = rows.exclude(**{field_name: ""}).exclude(**{f"{field_name}__isnull": True}).values_list(field_name, flat=True)
        StorageDeletion.objects.bulk_create(
            [StorageDeletion(storage=alias, name=name, model_label=registration.label) for name in names],
            ignore_conflicts=True,
        )


def storage_retry(model_label: str | None = None) -> tuple[int, int]:
    """Delete queued files, checking each is gone; returns (deleted, still pending).

    One storage call per file is the only way a storage deletes; a file that
    fails stays queued with the kind of error, for the next run and the admin.
    """
    queued = StorageDeletion.objects.all()
    if model_label:
        queued = queued.filter(model_label=model_label)
    deleted = failed = 0
    for entry in queued.iterator(chunk_size=500):
        if _delete_file(entry):
            deleted += 1
        else:
            failed += 1
    return deleted, failed


def _delete_file(entry: StorageDeletion) -> bool:
    storage = storages[entry.storage]
    try:
        storage.delete(entry.name)
        if storage.exists(entry.name):
            raise FileExistsError("still there after deletion")
    except Exception as error:  # any storage failure is retried, never lost
        StorageDeletion.objects.filter(pk=entry.pk).update(
            attempts=F("attempts") + 1, last_tried_at=timezone.now(), last_error=type(error).__name__[:100]
        )
        return False
    # A file an erasure queued (it has the request's reference) belongs to no retention run's receipt.
    receipt = (
        None if entry.reference else RetentionReceipt.objects.filter(model_label=entry.model_label).order_by("-run_id").first()
    )
    with transaction.atomic():
        StorageDeletion.objects.filter(pk=entry.pk).delete()
        if receipt is not None:
            RetentionReceipt.objects.filter(pk=receipt.pk).update(files_deleted=F("files_deleted") + 1)
    return True


# --- Under 16 (P48) -------------------------------------------------------------------------


def minors_sweep(*, now: datetime.datetime | None = None, started_by: str = "task:retention_minors_sweep") -> RetentionRun | None:
    """Delete at once any consumer whose date of birth shows they are under 16 (P48).

    Dates of birth are encrypted, so they are read in chunks and checked here;
    only consumers changed since the last completed sweep are read (a person
    who was 16 at the last sweep still is). The deletion itself is consumers'
    under-16 service, which keeps the number suppressed.
    """
    from consumers.models import Consumer
    from consumers.selectors import is_under_16
    from consumers.services import consumers_delete_under_16

    with _session_lock(MINORS_LOCK) as acquired:
        if not acquired:
            return None
        last = RetentionRun.objects.filter(kind=RetentionRun.Kind.MINORS, status=RetentionRun.Status.COMPLETED).first()
        run = _start(RetentionRun.Kind.MINORS, started_by)
        started = time.monotonic()
        registration = privacy.registration_for(Consumer)
        receipt = RetentionReceipt.objects.create(
            run=run, model_label=registration.label, category=registration.category, action=privacy.Action.DELETE
        )
        candidates = Consumer.objects.filter(date_of_birth__isnull=False)
        if last is not None:
            candidates = candidates.filter(updated_at__gte=last.started_at)
        holding = held(registration, now)
        today = timezone.localdate(now)
        children = defaultdict(list)
        for consumer in candidates.only("pk", "organisation", "phone_index", "date_of_birth").iterator(chunk_size=2000):
            if is_under_16(consumer.date_of_birth, today=today):
                children[consumer.organisation_id].append(consumer.pk)
        for organisation_id, pks in children.items():
            found = Consumer.objects.filter(pk__in=pks)
            if holding is not None:
                receipt.held += found.filter(holding).count()
                found = found.exclude(holding)
            indexes = list(found.values_list("phone_index", flat=True))
            if indexes:
                from accounts.models import Organisation

                receipt.deleted += consumers_delete_under_16(
                    organisation=Organisation.objects.get(pk=organisation_id), phone_indexes=indexes
                )
        receipt.seconds = time.monotonic() - started
        receipt.save(update_fields=["deleted", "held", "seconds"])
        return _finish(run)
