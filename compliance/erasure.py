"""Carrying out a data-subject request on the data: erasure, restriction, objection, rectification (P36-P38, P40, P41).

Erasure is driven by the registry alone: every registration's rows about the
subject get its erasure rule (`Registration.erase`: delete, anonymise, or keep
what a legal obligation requires), and the receipt says which, per category
and controller, in words a person can read.

Crash safety. The erasure log entry is written first, in its own transaction:
from then on a restore from backup, or a worker that died, is followed by
doing it all again (`replay_erasures`, or the request re-run). Each
registration is erased in one transaction together with its counts on the log
entry, so a re-run skips nothing and counts nothing twice: rows already erased
are no longer found. Models are erased before the models they point at (a
recording before its call, a call before its consumer), so a row that is only
reachable through another is never orphaned by a crash in between.

Stored files (recordings) are deleted from storage before their rows, and
checked gone; a file that cannot be deleted is queued (StorageDeletion, the retention engine's queue too),
reported on the receipt and retried, so it is never forgotten.
"""

import dataclasses
import datetime
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone

from consumers import services as consumer_services
from consumers.models import ConsentRecord, Consumer, SuppressionReason, SuppressionSource
from nextsupport import audit, crypto, privacy
from nextsupport.fields import BlindIndexField, digest

from . import events
from .discovery import rows_in_scope, with_user_account
from .models import ErasureLogEntry, Rectification, StorageDeletion

DELETED, ANONYMISED, KEPT = "deleted", "anonymised", "kept"
RESTRICTED, SUPPRESSED, NOTHING_HELD = "restricted", "suppressed", "nothing held"
_ACTIONS = {privacy.Action.DELETE: DELETED, privacy.Action.ANONYMISE: ANONYMISED, privacy.Action.RETAIN: KEPT}
_CODES = re.compile(r"^\s*P\d+(?:/P\d+)*:\s*")
_FILE_QUEUED = " {n} stored file(s) could not be removed at once; they are queued and deleted as soon as storage allows."


@dataclass(frozen=True)
class ReceiptLine:
    category: str  # human label of the data category
    organisation_id: int | None
    action: str  # "deleted" | "anonymised" | "kept" | "restricted" | "suppressed" | "nothing held"
    count: int
    note: str  # e.g. why something is kept (the legal obligation), plain language

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


NOTHING = ReceiptLine("Personal data", None, NOTHING_HELD, 0, "We hold no personal data about you.")


# --- Erasure -----------------------------------------------------------------------------


def erase_subject(
    subject: privacy.Subject, *, organisation_ids: set[int | None] | None = None, reference: str
) -> list[ReceiptLine]:
    """P37: erase everything erasable about `subject` for these controllers (None: every one); idempotent.

    Returns the receipt: what was deleted or anonymised over every run for this
    request and scope, and what is kept and why.
    """
    retry_pending_file_deletions()
    entry = _log_entry(subject, organisation_ids, reference)
    subject = _logged_subject(entry)
    kept_before = _kept_counts(subject, organisation_ids)
    for registration in erase_order():
        if registration.erasure != privacy.Action.RETAIN:
            _erase_registration(registration, subject, organisation_ids, entry)
    kept = _merge_kept(kept_before, _kept_counts(subject, organisation_ids))
    lines = _finish(entry, kept)
    audit.record(
        events.SUBJECT_ERASED,
        actor_label="compliance.erasure",
        target=entry,
        details={"reference": reference, "scope": entry.scope, "rows": sum(line.count for line in lines if line.action != KEPT)},
    )
    return lines


def replay(entry: ErasureLogEntry) -> list[ReceiptLine]:
    """Re-apply a logged erasure (after a restore from backup): the same steps, counted into the replay's own receipt."""
    retry_pending_file_deletions(reference=entry.reference)
    subject, organisation_ids = _logged_subject(entry), _scope_ids(entry)
    counts: dict = defaultdict(int)
    for registration in erase_order():
        if registration.erasure != privacy.Action.RETAIN:
            for line in _erase_rows(registration, subject, organisation_ids, entry.reference):
                counts[_line_key(line)] += line.count
    ErasureLogEntry.objects.filter(pk=entry.pk).update(replayed_at=timezone.now(), replays=models.F("replays") + 1)
    return [ReceiptLine(*key[:3], count, key[3]) for key, count in counts.items() if count]


def erase_order() -> list[privacy.Registration]:
    """Registrations ordered so that a model comes before every registered model it points at."""
    by_model = {r.model: r for r in privacy.registrations()}
    ordered, seen = [], set()

    def visit(model, path=()):
        if model in seen or model in path:
            return
        for dependent in by_model:
            if dependent is not model and model in _targets(dependent):
                visit(dependent, (*path, model))
        seen.add(model)
        ordered.append(by_model[model])

    for model in by_model:
        visit(model)
    return ordered


def _targets(model) -> set:
    return {f.related_model for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None}


def _erase_registration(registration, subject, organisation_ids, entry: ErasureLogEntry) -> None:
    with transaction.atomic():
        lines = _erase_rows(registration, subject, organisation_ids, entry.reference)
        if lines:
            locked = ErasureLogEntry.objects.select_for_update().get(pk=entry.pk)
            locked.receipt = _add_lines(locked.receipt, lines)
            locked.save(update_fields=["receipt"])


def _erase_rows(registration, subject, organisation_ids, reference: str) -> list[ReceiptLine]:
    """Erase this registration's rows about the subject, one controller at a time; the lines say what happened."""
    lines = []
    for organisation_id, pks in _pks_by_organisation(registration, subject, organisation_ids).items():
        queued = _delete_files(registration, pks, reference)
        count = registration.erase(registration.model._base_manager.filter(pk__in=pks))
        note = _note(registration) + (_FILE_QUEUED.format(n=queued) if queued else "")
        lines.append(ReceiptLine(_label(registration), organisation_id, _ACTIONS[registration.erasure], count, note.strip()))
    return lines


def _pks_by_organisation(registration, subject, organisation_ids) -> dict[int | None, list]:
    rows = rows_in_scope(registration, subject, organisation_ids)
    grouped: dict[int | None, list] = defaultdict(list)
    for item in _pk_rows(rows):
        grouped[item[0]].append(item[1])
    return grouped


def _pk_rows(rows) -> list[tuple[int | None, object]]:
    annotated = "discovered_organisation_id" in rows.query.annotations
    fields = ["pk", "discovered_organisation_id"] if annotated else ["pk"]
    return [(row[1] if annotated else None, row[0]) for row in rows.values_list(*fields)]


def _delete_files(registration, pks: list, reference: str) -> int:
    """Delete the rows' stored files and check they are gone; queue any that stay. Returns how many were queued."""
    manager = registration.model._base_manager
    queued = 0
    for field, alias in registration.files.items():
        names = [name for name in manager.filter(pk__in=pks).values_list(field, flat=True) if name]
        queued += sum(0 if delete_file(alias, name, reference=reference, model_label=registration.label) else 1 for name in names)
        # The rows no longer name their files: the queue does, until each is gone.
        manager.filter(pk__in=pks).update(**{field: ""})
    return queued


def delete_file(alias: str, name: str, *, reference: str = "", model_label: str = "") -> bool:
    """Delete one stored file and check it is gone; if it is not, it joins the one queue of stored files
    (StorageDeletion, which every retention run also retries). True when gone."""
    storage = storages[alias]
    error = ""
    try:
        storage.delete(name)
        if not storage.exists(name):
            StorageDeletion.objects.filter(storage=alias, name=name).delete()
            return True
        error = "FileExistsError"
    except Exception as exc:  # any storage failure is retried, never lost
        error = type(exc).__name__
    pending, created = StorageDeletion.objects.get_or_create(
        storage=alias,
        name=name,
        defaults={
            "reference": reference,
            "model_label": model_label,
            "attempts": 1,
            "last_error": error[:100],
            "last_tried_at": timezone.now(),
        },
    )
    if not created:
        StorageDeletion.objects.filter(pk=pending.pk).update(
            attempts=models.F("attempts") + 1, last_error=error[:100], last_tried_at=timezone.now()
        )
    audit.record(events.FILE_DELETION_PENDING, actor_label="compliance.erasure", target=pending, details={"error": error})
    return False


def retry_pending_file_deletions(*, reference: str | None = None) -> dict[str, int]:
    """Try again the queued deletions of files erasures could not delete (each erasure and replay does)."""
    pending = StorageDeletion.objects.exclude(reference="")
    if reference is not None:
        pending = pending.filter(reference=reference)
    outcome = {"deleted": 0, "still_pending": 0}
    for entry in pending.order_by("pk"):
        gone = delete_file(entry.storage, entry.name, reference=entry.reference, model_label=entry.model_label)
        outcome["deleted" if gone else "still_pending"] += 1
    return outcome


def _kept_counts(subject, organisation_ids) -> dict[tuple, int]:
    counts = {}
    for registration in privacy.registrations():
        # The erasure's own log entry is reported once, after everything else (_finish).
        if registration.erasure != privacy.Action.RETAIN or registration.model is ErasureLogEntry:
            continue
        rows = rows_in_scope(registration, subject, organisation_ids)
        key_field = "discovered_organisation_id" if "discovered_organisation_id" in rows.query.annotations else None
        if key_field:
            for organisation_id, n in rows.values_list(key_field).annotate(n=Count("*")).order_by():
                counts[(registration.label, organisation_id)] = n
        else:
            n = rows.count()
            if n:
                counts[(registration.label, None)] = n
    return counts


def _merge_kept(before: dict, after: dict) -> list[ReceiptLine]:
    """What is kept: counted before and after (the ledger is reached through the consumer, suppression entries are added)."""
    registrations = {r.label: r for r in privacy.registrations()}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        registration = registrations[key[0]]
        count = max(before.get(key, 0), after.get(key, 0))
        lines.append(ReceiptLine(_label(registration), key[1], KEPT, count, _note(registration)))
    return lines


def _finish(entry: ErasureLogEntry, kept: list[ReceiptLine]) -> list[ReceiptLine]:
    entry.refresh_from_db()
    done = [ReceiptLine(**line) for line in entry.receipt if line["action"] != KEPT]
    lines = _combine(done + kept)
    if any(line.action != KEPT for line in lines):
        log = privacy.registration_for(ErasureLogEntry)
        lines.append(ReceiptLine(_label(log), None, KEPT, 1, _note(log)))
    lines = lines or [NOTHING]
    entry.receipt = [line.as_dict() for line in lines]
    entry.completed_at = entry.completed_at or timezone.now()
    entry.save(update_fields=["receipt", "completed_at"])
    return lines


def _add_lines(receipt: list[dict], lines: list[ReceiptLine]) -> list[dict]:
    return [line.as_dict() for line in _combine([ReceiptLine(**d) for d in receipt] + lines)]


def _combine(lines: list[ReceiptLine]) -> list[ReceiptLine]:
    counts: dict[tuple, int] = defaultdict(int)
    for line in lines:
        counts[_line_key(line)] += line.count
    return [
        ReceiptLine(key[0], key[1], key[2], count, key[3]) for key, count in counts.items() if count or key[2] == NOTHING_HELD
    ]


def _line_key(line: ReceiptLine) -> tuple:
    return (line.category, line.organisation_id, line.action, line.note)


def _label(registration: privacy.Registration) -> str:
    return f"{privacy.Category(registration.category).label}: {registration.model._meta.verbose_name_plural}"


def _note(registration: privacy.Registration) -> str:
    if registration.erasure_note:
        return registration.erasure_note
    if registration.erasure == privacy.Action.RETAIN:
        basis = _CODES.sub("", registration.retention.basis)
        return f"Kept: {basis[:1].lower()}{basis[1:]}"
    return ""


# --- The erasure log ---------------------------------------------------------------------


def _scope_key(organisation_ids) -> str:
    if organisation_ids is None:
        return "all"
    return ",".join(sorted("nextsupport" if pk is None else str(pk) for pk in organisation_ids))


def _scope_ids(entry: ErasureLogEntry) -> set[int | None] | None:
    return None if entry.organisation_ids is None else set(entry.organisation_ids)


@transaction.atomic
def _log_entry(subject: privacy.Subject, organisation_ids, reference: str) -> ErasureLogEntry:
    """The log entry for this request and scope, written before anything is erased (digests and ids only)."""
    if not reference:
        raise ValueError("An erasure needs the request's reference.")
    subject = with_user_account(subject)
    values = {
        "phone_index": subject.phone_index or (digest("phone", subject.phone) if subject.phone else None),
        "email_index": subject.email_index or (digest("email", subject.email) if subject.email else None),
        "user_id": subject.user_id,
        "cookie_consent_id": subject.cookie_consent_id,
    }
    entry, created = ErasureLogEntry.objects.select_for_update().get_or_create(
        reference=reference,
        scope=_scope_key(organisation_ids),
        defaults={**values, "organisation_ids": None if organisation_ids is None else sorted(organisation_ids, key=str)},
    )
    # A re-run after the user account was anonymised no longer finds it by address: keep what the first run learnt.
    missing = {name: value for name, value in values.items() if value is not None and getattr(entry, name) is None}
    if missing and not created:
        for name, value in missing.items():
            setattr(entry, name, value)
        entry.save(update_fields=list(missing))
    if created or missing:
        # Outside the database, so that a restore of the database does not take the log back with it.
        transaction.on_commit(lambda: save_log_copy(entry))
    return entry


def _logged_subject(entry: ErasureLogEntry) -> privacy.Subject:
    return privacy.Subject(
        phone_index=entry.phone_index,
        email_index=entry.email_index,
        user_id=entry.user_id,
        cookie_consent_id=str(entry.cookie_consent_id) if entry.cookie_consent_id else None,
    )


# --- Restriction and objection (through the consumers services) ----------------------------


def restrict_subject(subject: privacy.Subject, *, organisation_ids=None, reference: str) -> list[ReceiptLine]:
    """P38: the person's consumer records are kept but never called again while restricted."""
    counts: dict[int, int] = defaultdict(int)
    for consumer in _consumers_of(subject, organisation_ids):
        if consumer.restricted_at is None:
            consumer_services.consumer_restrict(consumer=consumer, by=None, reason=f"Data-subject request {reference}")
        counts[consumer.organisation_id] += 1
    note = "Kept, but not used: no calls are made to you while the restriction lasts."
    lines = [ReceiptLine(_CONSUMER_LABEL, pk, RESTRICTED, n, note) for pk, n in sorted(counts.items())] or [NOTHING]
    audit.record(
        events.SUBJECT_RESTRICTED,
        actor_label="compliance.erasure",
        details={"reference": reference, "records": sum(counts.values())},
    )
    return lines


def object_for_subject(
    subject: privacy.Subject,
    *,
    organisation_ids=None,
    withdraw_consent: bool,
    reference: str,
    method: str = ConsentRecord.Method.WEB_FORM,
) -> list[ReceiptLine]:
    """P40/P41: stop at once. Every consent is withdrawn in the ledger and the number goes on the do-not-call list.

    A number we hold no record of is suppressed all the same: for the clients
    named, or (every controller) for all calls through NextSupport.
    """
    reason = SuppressionReason.OPT_OUT if withdraw_consent else SuppressionReason.OBJECTION
    counts: dict[int, int] = defaultdict(int)
    for consumer in _consumers_of(subject, organisation_ids):
        consumer_services.consumer_record_objection(
            consumer=consumer, reason=reason, source=SuppressionSource.DSAR, method=method
        )
        counts[consumer.organisation_id] += 1
    lines = [ReceiptLine(_CONSUMER_LABEL, pk, SUPPRESSED, n, _OBJECTION_NOTE) for pk, n in sorted(counts.items())]
    lines += _suppress_number(subject, organisation_ids, reason, already=set(counts))
    audit.record(
        events.SUBJECT_OBJECTED,
        actor_label="compliance.erasure",
        details={"reference": reference, "records": sum(counts.values()), "withdraw_consent": withdraw_consent},
    )
    return lines or [NOTHING]


_CONSUMER_LABEL = f"{privacy.Category.CONSUMER.label}: consumers"
_OBJECTION_NOTE = (
    "Your number is on the do-not-call list and every consent you had given is recorded as withdrawn; "
    "the business keeps the record of your choice as the law on marketing calls (PECR) requires."
)


def _suppress_number(subject, organisation_ids, reason, *, already: set[int]) -> list[ReceiptLine]:
    index = subject.phone_index or (digest("phone", subject.phone) if subject.phone else None)
    if index is None:
        return []
    if organisation_ids is None:
        consumer_services.suppression_add(phone_index=index, organisation=None, reason=reason, source=SuppressionSource.DSAR)
        note = "Your number will not be called through NextSupport for any business."
        return [ReceiptLine(f"{privacy.Category.SUPPRESSION.label}: every client", None, SUPPRESSED, 1, note)]
    lines = []
    for organisation in _organisations(pk for pk in organisation_ids if pk is not None and pk not in already):
        consumer_services.suppression_add(
            phone_index=index, organisation=organisation, reason=reason, source=SuppressionSource.DSAR
        )
        lines.append(ReceiptLine(f"{privacy.Category.SUPPRESSION.label}", organisation.pk, SUPPRESSED, 1, _OBJECTION_NOTE))
    return lines


def _organisations(ids):
    from accounts.models import Organisation

    return Organisation.objects.filter(pk__in=list(ids)).order_by("pk")


def _consumers_of(subject, organisation_ids) -> list[Consumer]:
    """The subject's consumer records, found through the registry, in the controllers asked for."""
    rows = rows_in_scope(privacy.registration_for(Consumer), subject, organisation_ids)
    return list(Consumer.objects.select_related("organisation").filter(pk__in=rows.values("pk")).order_by("pk"))


# --- Rectification ----------------------------------------------------------------------


def rectify_item(*, label: str, pk: int, changes: dict[str, str], reference: str, actor) -> Rectification:
    """P36: correct fields of one registered row, keeping the values before and after (encrypted) and auditing it.

    Only fields the registry declares as personal data may be corrected;
    evidence (the consent ledger, attestations) is never edited. A repeat of
    the same correction changes nothing and returns the record already made.
    """
    registration = _registration(label)
    unknown = sorted(set(changes) - set(registration.fields))
    if unknown:
        raise ValidationError(f"{label} has no correctable field {', '.join(unknown)}.", code="unknown_field")
    with transaction.atomic():
        obj = registration.model._base_manager.select_for_update().get(pk=pk)
        before = {name: _plain(getattr(obj, name)) for name in changes}
        obj = (registration.rectifier or _apply)(obj, changes, actor)
        after = {name: _plain(getattr(obj, name)) for name in changes}
        changed = sorted(name for name in changes if before[name] != after[name])
        if not changed:
            existing = Rectification.objects.filter(label=label, object_id=str(pk), reference=reference).first()
            if existing:
                return existing
        record = Rectification.objects.create(
            label=label,
            object_id=str(pk),
            fields_changed=changed,
            before=json.dumps({name: before[name] for name in changed}),
            after=json.dumps({name: after[name] for name in changed}),
            reference=reference,
            actor=actor,
            organisation_id=_organisation_of(registration, obj),
            **_whose(registration, obj, before),
        )
        audit.record(
            events.ITEM_RECTIFIED,
            actor=actor,
            target=obj,
            organisation_id=record.organisation_id,
            details={"reference": reference, "fields": changed, "rectification": record.pk},
        )
    return record


def _registration(label: str) -> privacy.Registration:
    for registration in privacy.registrations():
        if registration.label == label:
            if getattr(registration.model, "refuse_update", None) and registration.erasure == privacy.Action.RETAIN:
                raise ValidationError(f"{label} is evidence and is never edited; record a new entry instead.", code="evidence")
            return registration
    raise ValidationError(f"{label} holds no registered personal data.", code="unknown_model")


def _apply(obj, changes: dict, actor) -> models.Model:
    """The default correction: set the fields, validate them as the model does, save them with their blind indexes."""
    for name, value in changes.items():
        setattr(obj, name, value if value != "" else None)
    obj.full_clean(exclude=[f.name for f in obj._meta.fields if f.name not in changes], validate_unique=False)
    indexes = [f.name for f in obj._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source in changes]
    obj.save(update_fields=[*changes, *indexes])
    return obj


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _organisation_of(registration, obj) -> int | None:
    if registration.controller != privacy.Controller.CLIENT or not registration.organisation:
        return None
    return registration.model._base_manager.filter(pk=obj.pk).values_list(registration.organisation, flat=True).first()


def _whose(registration, obj, before: dict) -> dict:
    """The digests and user id of the person the row is about, so discovery and erasure reach the record."""
    found = {}
    for kind, path in registration.subject.items():
        if "__" in path:
            continue
        if kind == "user":
            found["user_id"] = getattr(
                obj, "pk" if path in ("id", "pk") else f"{path}_id" if hasattr(obj, f"{path}_id") else path
            )
        elif kind in ("phone", "email"):
            field = obj._meta.get_field(path)
            value = getattr(obj, path)
            if isinstance(field, BlindIndexField) and value is not None:
                found[f"{kind}_index"] = bytes(value)
            elif isinstance(value, str) and value:
                found[f"{kind}_index"] = digest(kind, value)
    # Corrected the very identifier? The old one finds the record too (the new one finds the row).
    for kind in ("phone", "email"):
        if f"{kind}_index" not in found and isinstance(before.get(kind), str) and before.get(kind):
            found[f"{kind}_index"] = digest(kind, before[kind])
    return found


# --- Replay after a restore (issue 13) ---------------------------------------------------


@dataclass(frozen=True)
class ReplayReport:
    entries: list[str]  # one line per log entry: its id, reference and counts; no personal data
    summary: str
    rows: int


def replay_all(*, since=None) -> ReplayReport:
    """Re-apply every logged erasure, oldest first (those since a date, when given). Safe to run any number of times.

    The log entries written since the backup are not in the restored database:
    they come back from their copies in storage first.
    """
    restored = restore_log_entries()
    entries = ErasureLogEntry.objects.order_by("erased_at", "pk")
    if since:
        entries = entries.filter(erased_at__date__gte=since)
    lines, total, count = [], 0, 0
    for entry in entries.iterator():
        receipt = replay(entry)
        rows = sum(line.count for line in receipt)
        total, count = total + rows, count + 1
        detail = ", ".join(f"{line.category} {line.action} {line.count}" for line in receipt) or "nothing left to erase"
        lines.append(f"#{entry.pk} {entry.reference} ({entry.scope}): {detail}")
    audit.record(events.ERASURES_REPLAYED, actor_label="manage.py replay_erasures", details={"entries": count, "rows": total})
    summary = f"{count} erasure(s) replayed ({restored} log entries restored from storage); {total} row(s) erased again."
    return ReplayReport(lines, summary, total)


LOG_COPIES = "erasure-log"
LOG_STORAGE = "default"


def _copy_name(reference: str, scope: str) -> str:
    return f"{LOG_COPIES}/{re.sub(r'[^A-Za-z0-9-]', '_', reference)}--{scope.replace(',', '_')}.json"


def save_log_copy(entry: ErasureLogEntry) -> str:
    """Write the entry to private storage, as the database holds it: digests (hex), ids and the key chain they are under."""
    data = {
        "reference": entry.reference,
        "scope": entry.scope,
        "organisation_ids": entry.organisation_ids,
        "phone_index": entry.phone_index.hex() if entry.phone_index else None,
        "email_index": entry.email_index.hex() if entry.email_index else None,
        "user_id": entry.user_id,
        "cookie_consent_id": str(entry.cookie_consent_id) if entry.cookie_consent_id else None,
        "erased_at": entry.erased_at.isoformat(),
        "blind_index_keys": crypto.blind_index_chain().key_ids,
    }
    storage, name = storages[LOG_STORAGE], _copy_name(entry.reference, entry.scope)
    storage.delete(name)
    return storage.save(name, ContentFile(json.dumps(data).encode()))


def restore_log_entries() -> int:
    """Bring back the log entries whose copies are in storage but not in the (restored) database. Returns how many."""
    storage = storages[LOG_STORAGE]
    try:
        names = storage.listdir(LOG_COPIES)[1]
    except FileNotFoundError:
        return 0
    restored = 0
    for name in sorted(names):
        with storage.open(f"{LOG_COPIES}/{name}", "rb") as handle:
            data = json.loads(handle.read())
        _, created = ErasureLogEntry.objects.get_or_create(
            reference=data["reference"],
            scope=data["scope"],
            defaults={
                "organisation_ids": data["organisation_ids"],
                "phone_index": _rekeyed(data["phone_index"], data["blind_index_keys"]),
                "email_index": _rekeyed(data["email_index"], data["blind_index_keys"]),
                "user_id": data["user_id"],
                "cookie_consent_id": data["cookie_consent_id"],
                "erased_at": datetime.datetime.fromisoformat(data["erased_at"]),
            },
        )
        restored += created
    return restored


def _rekeyed(hex_digest: str | None, key_ids: list[str]) -> bytes | None:
    """The digest under today's key chain: wrapped once more for every key rotated in since the copy was written."""
    if hex_digest is None:
        return None
    chain = crypto.blind_index_chain()
    newer = [(key_id, key) for key_id, key in chain.rotations if key_id not in key_ids]
    return chain.wrap(bytes.fromhex(hex_digest), newer)
