"""Every write to consumer data: suppression, consent, restriction, lists, imports, the TPS/CTPS register.

Views, the API, tasks and other apps call these; nothing else saves these models.
"""

import datetime
import itertools
import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Capability
from accounts.selectors import membership_for
from nextsupport import audit
from nextsupport.fields import BlindIndexField, digest

from . import csvfiles, importer, register
from .models import (
    ConsentRecord,
    Consumer,
    ContactList,
    ImportJob,
    LawfulBasisAttestation,
    ListMembership,
    PlatformSuppression,
    ScreeningRegister,
    Suppression,
    SuppressionReason,
    SuppressionSource,
)
from .rows import dropped_columns, is_special_category, mapping_problems
from .selectors import (
    ACTIVE_IMPORT_STATUSES,
    EARLIEST_CONSENT,
    MARKETING_CONSENT_PURPOSES,
    current_registers,
    discarding_leaves_list_empty,
    has_valid_consent,
    is_under_16,
    missing_registers,
    registered_among,
)

log = logging.getLogger(__name__)


# --- Suppression --------------------------------------------------------------------


@transaction.atomic
def suppression_add(
    *,
    phone: str | None = None,
    phone_index: bytes | None = None,
    organisation=None,
    reason: str,
    source: str,
    created_by=None,
    request=None,
) -> Suppression | PlatformSuppression:
    """Never call this number again: for one client, or (organisation=None) through NextSupport at all.

    Only the blind index of the number is stored. Adding a number twice keeps
    the first entry. Raises InvalidPhoneNumber for something that is not a number.
    """
    index = phone_index if phone_index is not None else digest("phone", phone)
    if organisation is None:
        entry, created = PlatformSuppression.objects.get_or_create(
            phone_index=index, defaults={"reason": reason, "source": source}
        )
    else:
        entry, created = Suppression.objects.get_or_create(
            organisation=organisation,
            phone_index=index,
            defaults={"reason": reason, "source": source, "created_by": created_by},
        )
    if created:
        audit.record(
            "suppression.added",
            request=request,
            actor=created_by,
            target=entry,
            details={"scope": "organisation" if organisation else "platform", "reason": reason, "source": source},
        )
    return entry


# --- Consumers --------------------------------------------------------------------


@transaction.atomic
def consumer_restrict(*, consumer: Consumer, by, request=None, reason: str = "") -> Consumer:
    """P38: keep the record, but never call or otherwise process it until unrestricted.

    The reason is free text about the person: it is kept on the record
    (encrypted, and erased with it), and the audit trail only notes that one was given.
    """
    if consumer.restricted_at is None:
        consumer.restricted_at = timezone.now()
        consumer.restriction_reason = reason.strip() or None
        consumer.save(update_fields=["restricted_at", "restriction_reason", "updated_at"])
        audit.record(
            "consumer.restricted", request=request, actor=by, target=consumer, details={"reason_given": bool(reason.strip())}
        )
    return consumer


@transaction.atomic
def consumer_unrestrict(*, consumer: Consumer, by, request=None) -> Consumer:
    if consumer.restricted_at is not None:
        consumer.restricted_at = None
        consumer.restriction_reason = None
        consumer.save(update_fields=["restricted_at", "restriction_reason", "updated_at"])
        audit.record("consumer.unrestricted", request=request, actor=by, target=consumer)
    return consumer


# Details a client (or a rectification request) may correct. The number is not
# among them: it is who the record is about, so a wrong number is a different
# person (delete the record, add the right one).
CORRECTABLE_FIELDS = ("name", "email", "date_of_birth", "postcode", "timezone")


@transaction.atomic
def consumer_correct(*, consumer: Consumer, changes: dict, by, request=None) -> Consumer:
    """P36: correct a consumer's details; an empty value clears the field. Audited with the field names only.

    Refuses a date of birth that makes the person under 16: such a record must
    be deleted at once (P48), which the "under 16" action does.
    """
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise ValidationError({name: "This detail cannot be corrected here." for name in unknown}, code="not_correctable")
    for name, value in changes.items():
        setattr(consumer, name, None if value in ("", None) else value)
    consumer.full_clean(exclude=[f.name for f in Consumer._meta.fields if f.name not in changes], validate_unique=False)
    if "date_of_birth" in changes and is_under_16(consumer.date_of_birth):
        raise ValidationError(
            {
                "date_of_birth": "This person would be under 16: we may hold no data about them. Use “This person is under 16” instead."
            },
            code="under_16",
        )
    indexes = [f.name for f in Consumer._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source in changes]
    consumer.save(update_fields=[*changes, *indexes, "updated_at"])
    audit.record("consumer.corrected", request=request, actor=by, target=consumer, details={"fields": sorted(changes)})
    return consumer


@transaction.atomic
def consumer_record_objection(
    *,
    consumer: Consumer,
    reason: str = SuppressionReason.OBJECTION,
    source: str = SuppressionSource.CLIENT_REQUEST,
    method: str = ConsentRecord.Method.VERBAL,
    occurred_at: datetime.datetime | None = None,
    by=None,
    request=None,
) -> Consumer:
    """P40/P41: the person said stop (an opt-out, or an objection). Effective at once.

    The number goes on the client's do-not-call list, every consent the
    person had given is withdrawn in the ledger, and the record is flagged.
    """
    if reason not in (SuppressionReason.OPT_OUT, SuppressionReason.OBJECTION):
        raise ValidationError("An objection is either an opt-out or an objection.", code="invalid")
    occurred_at = occurred_at or timezone.now()
    for purpose in ConsentRecord.Purpose.values:
        if has_valid_consent(consumer=consumer, purpose=purpose, at=occurred_at):
            _append_consent(
                consumer=consumer,
                purpose=purpose,
                action=ConsentRecord.Action.WITHDRAWN,
                method=method,
                occurred_at=occurred_at,
                wording=f"Withdrawn with the {SuppressionReason(reason).label.lower()}.",
                recorded_by=by,
            )
    suppression_add(
        phone_index=consumer.phone_index,
        organisation=consumer.organisation,
        reason=reason,
        source=source,
        created_by=by,
        request=request,
    )
    if consumer.objected_at is None:
        consumer.objected_at = occurred_at
        consumer.save(update_fields=["objected_at", "updated_at"])
    audit.record("consumer.objected", request=request, actor=by, target=consumer, details={"reason": reason, "source": source})
    return consumer


@transaction.atomic
def consumer_delete_under_16(*, consumer: Consumer, by=None, request=None) -> None:
    """P48: a consumer found to be under 16 is deleted at once; only a suppression entry remains."""
    consumers_delete_under_16(organisation=consumer.organisation, phone_indexes=[consumer.phone_index], by=by, request=request)


@transaction.atomic
def consumers_delete_under_16(*, organisation, phone_indexes: list[bytes], by=None, request=None) -> int:
    """Delete every record of these numbers in `organisation`, consent entries included, and suppress the numbers.

    Every number is suppressed, whether or not a record of it exists: a row
    rejected at import as under 16 must not come back through a later file (or
    a later row) that has no date of birth. The suppression is platform-wide:
    NextSupport holds no data of children for any client, so no other
    client's list may bring the number back either.
    """
    indexes = list(dict.fromkeys(phone_indexes))
    for index in indexes:
        suppression_add(
            phone_index=index,
            reason=SuppressionReason.UNDER_16,
            source=SuppressionSource.CLIENT_REQUEST,
            created_by=by,
            request=request,
        )
    ids = list(Consumer.objects.filter(organisation=organisation, phone_index__in=indexes).values_list("pk", flat=True))
    # The ledger refuses deletes (its manager and a database trigger); this is
    # the one path that may remove evidence, because P48 forbids keeping any of
    # it. By number: entries of an earlier record of the same person go too.
    with ledger_delete_allowed():
        ConsentRecord._base_manager.filter(organisation=organisation, phone_index__in=indexes).delete()
    Consumer.objects.filter(pk__in=ids).delete()
    for consumer_id in ids:
        audit.record(
            "consumer.deleted_under_16",
            request=request,
            actor=by,
            organisation_id=organisation.pk,
            details={"consumer_id": consumer_id},
        )
    return len(ids)


@transaction.atomic
def consumers_erase(*, queryset) -> int:
    """Erasure (P37, the registry's rule for Consumer): delete, and keep the number suppressed for that client.

    Without the suppression entry the next upload of the client's CRM export
    would bring the person straight back. The entry holds only the blind index.
    """
    count = 0
    for consumer in queryset.select_related("organisation").iterator(chunk_size=500):
        suppression_add(
            phone_index=consumer.phone_index,
            organisation=consumer.organisation,
            reason=SuppressionReason.ERASURE,
            source=SuppressionSource.DSAR,
        )
        consumer.delete()
        count += 1
    return count


# --- Consent ledger ------------------------------------------------------------------


@contextmanager
def ledger_delete_allowed():
    """Within this block (inside a transaction), the database lets consent entries be deleted.

    The ledger's trigger (migration 0004) refuses every DELETE unless this
    transaction-local setting is on. Only the under-16 path (P48) and the
    retention purge after six years (P14) may use it.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Deleting consent evidence must happen inside a transaction.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('nextsupport.allow_ledger_delete', 'on', true)")
    yield
    # Not in a finally: after an error the transaction (or savepoint) rolls
    # back, and the setting with it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('nextsupport.allow_ledger_delete', 'off', true)")


def _append_consent(
    *, consumer, purpose, action, method, occurred_at, wording="", wording_version="", source_reference=None, recorded_by=None
) -> ConsentRecord:
    return ConsentRecord.objects.create(
        organisation_id=consumer.organisation_id,
        consumer=consumer,
        phone_index=consumer.phone_index,
        purpose=purpose,
        action=action,
        method=method,
        occurred_at=occurred_at,
        wording=wording,
        wording_version=wording_version,
        source_reference=source_reference or None,
        recorded_by=recorded_by,
    )


def _check_consent_entry(*, purpose, method, occurred_at, wording, wording_version):
    errors = {}
    if purpose not in ConsentRecord.Purpose.values:
        errors["purpose"] = "Choose what the consent is for."
    if method not in ConsentRecord.Method.values:
        errors["method"] = "Choose how the person told you."
    if occurred_at is None:
        errors["occurred_at"] = "Give the date and time."
    elif occurred_at > timezone.now():
        errors["occurred_at"] = "The date is in the future."
    elif occurred_at < EARLIEST_CONSENT:
        errors["occurred_at"] = f"The date is before {EARLIEST_CONSENT:%Y}: check it, it cannot be a consent we hold."
    if wording is not None and not (wording or "").strip() and not (wording_version or "").strip():
        errors["wording"] = "Give the wording the person agreed to, or the version of your consent text."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def consent_record(
    *,
    consumer: Consumer,
    purpose: str,
    method: str,
    occurred_at: datetime.datetime,
    wording: str = "",
    wording_version: str = "",
    source_reference: str = "",
    recorded_by=None,
    request=None,
) -> ConsentRecord:
    """P18: append a consent to the ledger (who it was given to is the consumer's organisation)."""
    _check_consent_entry(
        purpose=purpose, method=method, occurred_at=occurred_at, wording=wording, wording_version=wording_version
    )
    entry = _append_consent(
        consumer=consumer,
        purpose=purpose,
        action=ConsentRecord.Action.GIVEN,
        method=method,
        occurred_at=occurred_at,
        wording=wording.strip(),
        wording_version=wording_version.strip(),
        source_reference=source_reference.strip(),
        recorded_by=recorded_by,
    )
    audit.record("consent.recorded", request=request, actor=recorded_by, target=entry, details={"purpose": purpose})
    return entry


@transaction.atomic
def consent_withdraw(
    *,
    consumer: Consumer,
    purpose: str,
    method: str,
    occurred_at: datetime.datetime | None = None,
    source_reference: str = "",
    recorded_by=None,
    request=None,
) -> ConsentRecord:
    """P41: append a withdrawal; the consent entries before it stay as they were."""
    occurred_at = occurred_at or timezone.now()
    _check_consent_entry(purpose=purpose, method=method, occurred_at=occurred_at, wording=None, wording_version=None)
    entry = _append_consent(
        consumer=consumer,
        purpose=purpose,
        action=ConsentRecord.Action.WITHDRAWN,
        method=method,
        occurred_at=occurred_at,
        wording="Consent withdrawn.",
        source_reference=source_reference.strip(),
        recorded_by=recorded_by,
    )
    audit.record("consent.withdrawn", request=request, actor=recorded_by, target=entry, details={"purpose": purpose})
    return entry


# --- Contact lists ------------------------------------------------------------------


def marketing_unavailable_message(missing: list[str]) -> str:
    return (
        f"Marketing lists are screened against the TPS and CTPS before anyone is called, and NextSupport has not "
        f"loaded: {', '.join(missing)}. You can create a customer-service list now; for marketing, please try again "
        "later or contact support."
    )


@transaction.atomic
def contact_list_create(*, organisation, name: str, purpose: str, created_by=None) -> ContactList:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the list a name."})
    if purpose not in ContactList.Purpose.values:
        raise ValidationError({"purpose": "Choose what the list will be called for."})
    if ContactList.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise ValidationError({"name": "You already have a list with this name."})
    if purpose == ContactList.Purpose.MARKETING and (missing := missing_registers()):
        # Told now, not at the last step of the first import, which could not start without them.
        raise ValidationError({"purpose": marketing_unavailable_message(missing)})
    return ContactList.objects.create(organisation=organisation, name=name, purpose=purpose, created_by=created_by)


def _attesting_person(contact_list: ContactList, by, api_key):
    """The named person an attestation records (P19): the signed-in person, or the creator of the API key.

    A key attests on behalf of whoever created it, and only while that person
    may still manage the organisation's contacts: an attestation nobody answers for is no evidence.
    """
    if by is not None:
        return by
    creator = getattr(api_key, "created_by", None)
    membership = membership_for(creator, contact_list.organisation_id) if creator else None
    if membership is None or not membership.can(Capability.MANAGE_CONTACTS):
        raise ValidationError(
            "An attestation names the person who answers for it. The person who created this API key can no longer "
            "manage contacts, so it cannot attest: ask an admin to create a new key, or attest in the portal.",
            code="no_person",
        )
    return creator


@transaction.atomic
def contact_list_attest(
    *, contact_list: ContactList, basis: str, wording: str, by=None, api_key=None, request=None
) -> LawfulBasisAttestation:
    """P19: the uploader states the lawful basis for the list, in their own words; kept as evidence.

    `by` is the signed-in person; with an API key instead, the key and its creator are recorded.
    """
    person = _attesting_person(contact_list, by, api_key)
    errors = {}
    if basis not in LawfulBasisAttestation.Basis.values:
        errors["basis"] = "Choose the lawful basis."
    if len((wording or "").strip()) < 20:
        errors["wording"] = "Explain in your own words (at least 20 characters) why you may have these people called."
    if contact_list.is_marketing and basis != LawfulBasisAttestation.Basis.CONSENT:
        errors["basis"] = "Marketing calls need the person's consent (PECR): the lawful basis of a marketing list is consent."
    if errors:
        raise ValidationError(errors)
    attestation = LawfulBasisAttestation.objects.create(
        organisation_id=contact_list.organisation_id,
        contact_list=contact_list,
        list_name=contact_list.name,
        basis=basis,
        wording=wording.strip(),
        attested_by=person,
        api_key=api_key,
    )
    audit.record(
        "contact_list.attested",
        request=request,
        actor=by,
        target=contact_list,
        details={"basis": basis, "on_behalf_of": person.pk} if by is None else {"basis": basis},
    )
    return attestation


@transaction.atomic
def contact_list_delete(*, contact_list: ContactList, by, request=None) -> int:
    """P30 "on client request": delete the list and every consumer that is on no other list.

    Consent evidence, attestations and suppression entries stay (P14, P19, P40).
    Refused while an import into the list is queued or running: its chunks
    would add people after they were counted, and its file would vanish.
    """
    # Row locks on the list's jobs: import_job_start locks its job too, so an
    # import cannot start between this check and the delete, and a running
    # chunk (which updates its job when it commits) is waited for.
    statuses = set(ImportJob.objects.select_for_update().filter(contact_list=contact_list).values_list("status", flat=True))
    if statuses & set(ACTIVE_IMPORT_STATUSES):
        raise ValidationError(
            "An import into this list is still running. Wait until it has finished, then delete the list.",
            code="importing",
        )
    only_here = Consumer.objects.filter(memberships__contact_list=contact_list).exclude(
        memberships__contact_list__in=ContactList.objects.filter(organisation=contact_list.organisation_id).exclude(
            pk=contact_list.pk
        )
    )
    ids = list(only_here.values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(ids), 2000):
        # only("pk"): the deletion collector would otherwise load, and decrypt, every record.
        batch = Consumer.objects.filter(pk__in=ids[start : start + 2000]).only("pk")
        deleted += batch.delete()[1].get(Consumer._meta.label, 0)
    for job in contact_list.import_jobs.exclude(file=""):
        job.file.delete(save=False)
    audit.record(
        "contact_list.deleted",
        request=request,
        actor=by,
        target=contact_list,
        details={"list_id": contact_list.pk, "consumers_deleted": deleted},
    )
    contact_list.delete()
    return deleted


@transaction.atomic
def contact_list_release(*, contact_list: ContactList, released_at: datetime.datetime | None = None) -> int:
    """The campaigns app calls this when no campaign needs the list any more (P30).

    Retention of a consumer runs from when the last list holding it was
    released; a consumer still on a list in use keeps no release date.
    Returns how many consumers now have their retention clock running.
    """
    released_at = released_at or timezone.now()
    contact_list.released_at = released_at
    contact_list.save(update_fields=["released_at"])
    in_use = ContactList.objects.filter(organisation=contact_list.organisation_id, released_at__isnull=True)
    return (
        Consumer.objects.filter(memberships__contact_list=contact_list)
        .exclude(memberships__contact_list__in=in_use)
        .update(released_at=released_at)
    )


@transaction.atomic
def contact_list_claim(*, contact_list: ContactList) -> int:
    """The campaigns app calls this when a campaign starts using a list: its retention clock stops (P30).

    A list released by an earlier campaign, and the consumers on it, are in use
    again; returns how many consumers had their clock stopped.
    """
    if contact_list.released_at is not None:
        contact_list.released_at = None
        contact_list.save(update_fields=["released_at"])
    return Consumer.objects.filter(memberships__contact_list=contact_list, released_at__isnull=False).update(released_at=None)


@transaction.atomic
def contact_list_screen(*, contact_list: ContactList, by=None, request=None) -> int:
    """P49: screen a marketing list against the current TPS and CTPS files; returns how many were taken off.

    A number found on a register leaves the list (it stays suppressed from
    marketing as long as it is registered). The record is kept for any other
    list it is on, and deleted when it is on none: nothing would ever use,
    release or delete it otherwise (P30). The list records when it was
    screened and against which file date, which is what `screening_is_current` checks.
    """
    if not contact_list.is_marketing:
        raise ValidationError("Only marketing lists are screened against the TPS and CTPS.")
    missing = missing_registers()
    if missing:
        raise ValidationError(f"Screening needs both registers, and none is loaded for: {', '.join(missing)}.")
    registers = current_registers()
    removed = deleted = 0
    members = (
        ListMembership.objects.filter(contact_list=contact_list).select_related("consumer").only("id", "consumer__phone_index")
    )
    for batch in itertools.batched(members.iterator(chunk_size=5000), 5000, strict=False):
        dropped, gone = _drop_registered(batch)
        removed += dropped
        deleted += gone
    contact_list.screened_at = timezone.now()
    contact_list.screened_register_date = min(r.file_date for r in registers.values())
    contact_list.save(update_fields=["screened_at", "screened_register_date"])
    audit.record(
        "contact_list.screened",
        request=request,
        actor=by,
        target=contact_list,
        details={"removed": removed, "consumers_deleted": deleted},
    )
    return removed


def _drop_registered(memberships: tuple[ListMembership, ...]) -> tuple[int, int]:
    """Take registered numbers off the list; returns (memberships removed, consumers deleted)."""
    listed = registered_among(m.consumer.phone_index for m in memberships)
    dropped = [m for m in memberships if m.consumer.phone_index in listed]
    ListMembership.objects.filter(pk__in=[m.pk for m in dropped]).delete()
    # only("pk"): the deletion collector would otherwise load, and decrypt, every record.
    left_on_no_list = Consumer.objects.filter(pk__in=[m.consumer_id for m in dropped], memberships__isnull=True).only("pk")
    return len(dropped), left_on_no_list.delete()[1].get(Consumer._meta.label, 0)


# --- Imports ----------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, contact_list: ContactList, upload, uploaded_by, request=None) -> ImportJob:
    """Store an uploaded file and work out its shape; ImportFileError (nothing stored) when it is no usable CSV."""
    shape = csvfiles.inspect(upload, size=upload.size, max_bytes=settings.CONTACT_IMPORT_MAX_BYTES)
    job = ImportJob(
        organisation_id=contact_list.organisation_id,
        contact_list=contact_list,
        uploaded_by=uploaded_by,
        original_filename=(upload.name or "upload.csv")[-255:],
        size_bytes=upload.size,
        encoding=shape.encoding,
        delimiter=shape.delimiter,
        columns=shape.columns,
    )
    upload.seek(0)
    job.file.save(f"{contact_list.organisation_id}-{timezone.now():%Y%m%d%H%M%S}.csv", upload, save=False)
    try:
        job.save()
        audit.record("contact_list.file_uploaded", request=request, actor=uploaded_by, target=job, details={"bytes": upload.size})
    except Exception:
        # The row rolls back with the transaction; the stored file must not outlive it.
        job.file.delete(save=False)
        raise
    return job


@transaction.atomic
def contact_list_create_from_upload(*, organisation, name: str, purpose: str, upload, created_by, request=None) -> ImportJob:
    """A new list with its first file: one step for the client, so a file we cannot import leaves no empty list behind."""
    contact_list = contact_list_create(organisation=organisation, name=name, purpose=purpose, created_by=created_by)
    return import_job_create(contact_list=contact_list, upload=upload, uploaded_by=created_by, request=request)


def import_job_preview(job: ImportJob) -> list[list[str]]:
    """The first rows of the uploaded file, for the mapping step (read from the file, never stored).

    Special-category cells are left blank: they can never be imported, so there is nothing
    to check in them, and we do not show such data even back to its owner (P10).
    """
    with job.file.open("rb") as stream:
        preview = csvfiles.inspect(stream, size=job.size_bytes, max_bytes=job.size_bytes).preview
    special = {index for index, column in enumerate(job.columns) if is_special_category(column)}
    return [["" if index in special else cell for index, cell in enumerate(row)] for row in preview]


@transaction.atomic
def import_job_start(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    consent_purposes: list[str] | None = None,
    consent_wording: str = "",
    consent_wording_version: str = "",
    attestation: dict | None = None,
    clear_empty: bool = False,
    by=None,
    api_key=None,
    request=None,
) -> ImportJob:
    """Confirm the column mapping and queue the import: what "Start the import" means, in the portal and the API.

    With `clear_empty`, an empty cell in a mapped column clears that detail on an existing record (P36).

    The list must have an attested lawful basis (P19); `attestation` ({"basis", "wording"})
    records one in the same transaction, so a refused start leaves no attestation behind
    and an accepted one never runs unattested.
    """
    if attestation is not None:
        contact_list_attest(
            contact_list=job.contact_list,
            basis=attestation.get("basis", ""),
            wording=attestation.get("wording", ""),
            by=by,
            api_key=api_key,
            request=request,
        )
    job = ImportJob.objects.select_for_update().select_related("contact_list").filter(pk=job.pk).first()
    if job is None:  # its list was deleted while we waited for the lock
        raise ValidationError("This upload no longer exists: its list was deleted.", code="gone")
    if job.status != ImportJob.Status.UPLOADED:
        raise ValidationError("This import has already been started.", code="started")
    marketing = job.contact_list.is_marketing
    mapping = {str(k): v for k, v in mapping.items() if v}
    errors = {}
    problems = mapping_problems(job.columns, mapping, marketing=marketing)
    if problems:
        errors["mapping"] = problems
    if not job.contact_list.attestations.exists():
        errors["attestation"] = "Attest the lawful basis for this list before importing into it."
    consent_purposes = list(dict.fromkeys(consent_purposes or []))
    if marketing:
        errors.update(_consent_evidence_problems(consent_purposes, consent_wording, consent_wording_version))
        missing = missing_registers()
        if missing:
            errors["screening"] = marketing_unavailable_message(missing)
    if errors:
        raise ValidationError(errors)
    job.mapping = mapping
    job.clear_empty = clear_empty
    job.dropped_columns = dropped_columns(job.columns, mapping)
    job.consent_purposes = consent_purposes if marketing else []
    job.consent_wording = consent_wording.strip() if marketing else ""
    job.consent_wording_version = consent_wording_version.strip() if marketing else ""
    job.status = ImportJob.Status.QUEUED
    job.heartbeat_at = timezone.now()
    job.save()
    audit.record(
        "contact_list.import_started",
        request=request,
        actor=by,
        target=job,
        details={"fields": sorted(mapping.values()), "dropped_columns": len(job.dropped_columns), "clear_empty": clear_empty},
    )
    from .tasks import run_import  # tasks import services: import at call time

    run_import.delay_on_commit(job.pk)
    return job


def _consent_evidence_problems(purposes, wording, version) -> dict:
    errors = {}
    if not purposes or any(p not in ConsentRecord.Purpose.values for p in purposes):
        errors["consent_purposes"] = "Say what the people in this list consented to."
    elif not set(MARKETING_CONSENT_PURPOSES) <= set(purposes):
        errors["consent_purposes"] = (
            "Our calls are made by an AI: marketing lists need consent to marketing calls and to automated calls."
        )
    if not wording.strip() and not version.strip():
        errors["consent_wording"] = "Give the consent wording the people agreed to, or its version in your CRM."
    return errors


@transaction.atomic
def import_job_discard(*, job: ImportJob, by=None, request=None) -> bool:
    """Throw away an upload that was never imported (its file holds personal data).

    A list left with no people, no other upload and no attestation goes too: it was
    made for this file and nothing else was ever done with it, so discarding never
    leaves an empty list behind. Returns True when it did.
    """
    if job.status != ImportJob.Status.UPLOADED:
        raise ValidationError("Only an upload that has not been imported can be discarded.")
    job.file.delete(save=False)
    audit.record("contact_list.upload_discarded", request=request, actor=by, target=job)
    contact_list, list_goes_too = job.contact_list, discarding_leaves_list_empty(job)
    job.delete()
    if not list_goes_too:
        return False
    audit.record(
        "contact_list.deleted",
        request=request,
        actor=by,
        target=contact_list,
        details={"list_id": contact_list.pk, "consumers_deleted": 0, "why": "only_upload_discarded"},
    )
    contact_list.delete()
    return True


def import_job_run(*, job_id: int, time_budget: float | None = None) -> str:
    """Run (or resume) an import. Returns "done", "continue" (time budget used up) or "busy".

    Safe to call any number of times, from any number of workers: a session
    advisory lock lets one run at a time (it is released by PostgreSQL if the
    worker dies), and every chunk commits with its checkpoint.
    """
    with importer.job_lock(job_id) as locked:
        if not locked:
            return "busy"
        job = ImportJob.objects.select_related("contact_list", "organisation").filter(pk=job_id).first()
        if job is None or job.finished or job.status == ImportJob.Status.UPLOADED:
            return "done"
        if job.attempts >= settings.CONTACT_IMPORT_MAX_ATTEMPTS:
            _import_failed(job, "We could not finish this import after several attempts. Please contact support.")
            return "done"
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            attempts=F("attempts") + 1, heartbeat_at=now, started_at=Coalesce("started_at", now)
        )
        deadline = time.monotonic() + (time_budget or settings.CONTACT_IMPORT_TIME_BUDGET)
        try:
            if job.total_rows is None:
                importer.check_file(job)
            finished = importer.load(job, deadline=deadline)
        except csvfiles.ImportFileError as exc:
            _import_failed(job, exc.messages[0])
            return "done"
        if not finished:
            # A clean hand-over to the next task is not a failed attempt.
            ImportJob.objects.filter(pk=job.pk).update(attempts=0)
            return "continue"
        _import_completed(job)
        return "done"


@transaction.atomic
def _import_completed(job: ImportJob) -> None:
    job.refresh_from_db()
    job.status = ImportJob.Status.COMPLETED
    job.finished_at = timezone.now()
    job.bytes_done = job.size_bytes
    job.file.delete(save=False)
    job.save()
    contact_list = job.contact_list
    if contact_list.is_marketing and job.accepted:
        # The new rows were screened just now; the list as a whole is only as
        # fresh as its least recently screened rows.
        registers = current_registers()
        if contact_list.screened_at is None:
            contact_list.screened_at = job.started_at or job.finished_at
            contact_list.screened_register_date = min(r.file_date for r in registers.values())
            contact_list.save(update_fields=["screened_at", "screened_register_date"])
    audit.record(
        "contact_list.imported",
        actor_label="task:consumers.run_import",
        target=job,
        details={
            k: getattr(job, k)
            for k in ("rows_read", "created", "updated", "rejected", "minors", "suppressed", "screened_out", "duplicates")
        },
    )


@transaction.atomic
def _import_failed(job: ImportJob, reason: str) -> None:
    job.refresh_from_db()
    job.status = ImportJob.Status.FAILED
    job.failure_reason = reason
    job.finished_at = timezone.now()
    job.file.delete(save=False)
    job.save()
    audit.record(
        "contact_list.import_failed", actor_label="task:consumers.run_import", target=job, details={"rows_read": job.rows_read}
    )


def import_jobs_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Beat task body: re-queue imports whose worker vanished; discard uploads abandoned at the mapping step."""
    from .selectors import abandoned_uploads, imports_needing_a_worker
    from .tasks import run_import

    now = now or timezone.now()
    stalled = list(
        imports_needing_a_worker(stalled_before=now - settings.CONTACT_IMPORT_STALL_AFTER).values_list("pk", flat=True)
    )
    for job_id in stalled:
        run_import.delay(job_id)
    abandoned = 0
    for job in abandoned_uploads(uploaded_before=now - datetime.timedelta(days=1)):
        import_job_discard(job=job)
        abandoned += 1
    return {"requeued": len(stalled), "discarded": abandoned}


# --- TPS/CTPS register ------------------------------------------------------------------


def screening_register_load(*, kind: str, file_date: datetime.date, stream, imported_by: str) -> ScreeningRegister:
    """Load a TPS or CTPS register file (one number per line) and make it the current one of its kind."""
    if kind not in ScreeningRegister.Kind.values:
        raise ValidationError({"kind": "The register is either TPS or CTPS."})
    if file_date > timezone.localdate():
        raise ValidationError({"file_date": "The file date is in the future."})
    current = current_registers().get(kind)
    if current and current.file_date > file_date:
        raise ValidationError({"file_date": f"A newer {kind.upper()} file (of {current.file_date:%d %b %Y}) is already loaded."})
    return register.load(kind=kind, file_date=file_date, stream=stream, imported_by=imported_by)
