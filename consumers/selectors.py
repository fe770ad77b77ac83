"""Reads of consumer data, and the compliance rules the pre-call gate and the importer share.

Each rule lives in exactly one function here; the importer, the portal, the
API and the campaigns app's pre-call gate all call it, so a rule cannot be
enforced in one path and forgotten in another:

    is_under_16(date_of_birth)                      P48  children are never held
    suppressed_among(indexes, organisation=...)     P40  opt-outs, per client and platform-wide
    registered_among(indexes)                       P49  numbers on the current TPS/CTPS files
    screening_is_current(contact_list)              P49  marketing lists screened within 28 days
    has_valid_consent(consumer=..., purpose=...)    P18/P41  latest ledger entry is "given"
    processing_stopped(consumer)                    P38/P40  restricted or objected
    list_unusable_reasons(contact_list)             P19  attested, imported, screened
    call_refusals_among(consumers, contact_lists=)  all of the above for a batch of calls (the gate calls this)
    call_refusals(consumer=..., contact_list=...)   the same for one call
"""

import datetime
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from nextsupport.fields import digest
from nextsupport.identifiers import mask_email, mask_phone, normalise_email

from .models import (
    ConsentRecord,
    Consumer,
    ContactList,
    ImportJob,
    LawfulBasisAttestation,
    ListMembership,
    PlatformSuppression,
    RegisteredNumber,
    ScreeningRegister,
    Suppression,
)

MINIMUM_AGE = 16
# A consent said to be older than this is a typo or a broken export, not evidence (and before 1900 the
# UK's clock was not even on GMT, so such a time cannot be written as an ordinary offset).
EARLIEST_CONSENT = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
SCREENING_MAX_AGE = datetime.timedelta(days=28)
# An AI marketing call is an automated call: PECR wants consent to marketing
# calls, and to automated ones specifically.
MARKETING_CONSENT_PURPOSES = (ConsentRecord.Purpose.MARKETING_CALLS, ConsentRecord.Purpose.AUTOMATED_CALLS)
# An import in one of these states has a worker on it, or will have.
ACTIVE_IMPORT_STATUSES = (ImportJob.Status.QUEUED, ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)


# --- Compliance rules -----------------------------------------------------------


def is_under_16(date_of_birth: datetime.date | None, *, today: datetime.date | None = None) -> bool:
    """P48: is a person born on `date_of_birth` younger than 16 today?"""
    if date_of_birth is None:
        return False
    today = today or timezone.localdate()
    try:
        sixteenth_birthday = date_of_birth.replace(year=date_of_birth.year + MINIMUM_AGE)
    except ValueError:  # born on 29 February: the birthday falls on 1 March in other years
        sixteenth_birthday = datetime.date(date_of_birth.year + MINIMUM_AGE, 3, 1)
    return today < sixteenth_birthday


def suppressed_among(phone_indexes: Iterable[bytes], *, organisation) -> set[bytes]:
    """P40: which of these numbers (blind indexes) must `organisation` never call.

    A number is suppressed for a client when that client's list holds it, or
    when the person asked NextSupport itself (the platform-wide list).
    """
    indexes = list(phone_indexes)
    if not indexes:
        return set()
    organisation_id = getattr(organisation, "pk", organisation)
    # One array parameter (= ANY) rather than an IN list of thousands: the
    # importer asks about a whole chunk of numbers at once.
    own, platform = Suppression._meta.db_table, PlatformSuppression._meta.db_table
    return _indexes_found(
        f"SELECT phone_index FROM {own} WHERE organisation_id = %s AND phone_index = ANY(%s) "  # noqa: S608
        f"UNION SELECT phone_index FROM {platform} WHERE phone_index = ANY(%s)",
        [organisation_id, indexes, indexes],
    )


def _indexes_found(sql: str, params: list) -> set[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {bytes(row[0]) for row in cursor.fetchall()}


def is_suppressed(*, organisation, phone: str | None = None, phone_index: bytes | None = None) -> bool:
    index = phone_index if phone_index is not None else digest("phone", phone)
    return bool(suppressed_among([index], organisation=organisation))


def current_registers() -> dict[str, ScreeningRegister]:
    return {r.kind: r for r in ScreeningRegister.objects.filter(status=ScreeningRegister.Status.CURRENT)}


def registered_among(phone_indexes: Iterable[bytes]) -> set[bytes]:
    """P49: which of these numbers are on the current TPS or CTPS register file."""
    indexes = list(phone_indexes)
    if not indexes:
        return set()
    numbers, registers = RegisteredNumber._meta.db_table, ScreeningRegister._meta.db_table
    return _indexes_found(
        f"SELECT n.phone_index FROM {numbers} n JOIN {registers} r ON r.id = n.register_id "  # noqa: S608
        "WHERE r.status = %s AND n.phone_index = ANY(%s)",
        [ScreeningRegister.Status.CURRENT, indexes],
    )


def missing_registers() -> list[str]:
    """The register kinds with no file loaded: screening is impossible until they are."""
    loaded = current_registers()
    return [kind.label for kind in ScreeningRegister.Kind if kind not in loaded]


def screening_is_current(contact_list: ContactList, *, now: datetime.datetime | None = None) -> bool:
    """P49: a marketing list may be called only if screened against TPS/CTPS data at most 28 days old.

    Both the screening and the register file it used must be that recent: a
    list screened today against a two-month-old file is two months stale.
    Lists for customer-service calls are not marketing and need no screening.
    """
    if not contact_list.is_marketing:
        return True
    if contact_list.screened_at is None or contact_list.screened_register_date is None:
        return False
    now = now or timezone.now()
    oldest_allowed = now - SCREENING_MAX_AGE
    return contact_list.screened_at >= oldest_allowed and contact_list.screened_register_date >= timezone.localdate(
        oldest_allowed
    )


def _ledger_of(consumer: Consumer) -> QuerySet[ConsentRecord]:
    """The client's ledger entries for this person's number.

    By number, not by consumer row: the record may have been deleted (with its
    list) and created again by a later upload, and a withdrawal made to the
    earlier record must still count (P41).
    """
    return ConsentRecord.objects.filter(organisation_id=consumer.organisation_id, phone_index=consumer.phone_index)


def has_valid_consent(*, consumer: Consumer, purpose: str, at: datetime.datetime | None = None) -> bool:
    """P18/P41: the latest ledger entry for this client, number and purpose is a consent, not a withdrawal."""
    latest = _latest_consent_actions(consumer.organisation_id, [consumer.phone_index], purposes=[purpose], at=at)
    return latest.get((consumer.phone_index, purpose)) == ConsentRecord.Action.GIVEN


def _latest_consent_actions(
    organisation_id: int, phone_indexes: list[bytes], *, purposes=None, at: datetime.datetime | None = None
) -> dict[tuple[bytes, str], str]:
    """The action of the latest ledger entry up to `at` for each (number, purpose) that has one, in one query.

    "Latest" is by `occurred_at`, then by id: the P18/P41 rule, for one number or a page of them.
    The numbers go as one array parameter: the pre-call gate asks about hundreds at once.
    """
    purposes = list(purposes) if purposes is not None else list(ConsentRecord.Purpose.values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (phone_index, purpose) phone_index, purpose, action FROM {ConsentRecord._meta.db_table} "  # noqa: S608
            "WHERE organisation_id = %s AND phone_index = ANY(%s) AND purpose = ANY(%s) AND occurred_at <= %s "
            "ORDER BY phone_index, purpose, occurred_at DESC, id DESC",
            [organisation_id, list(phone_indexes), purposes, at or timezone.now()],
        )
        return {(bytes(index), purpose): action for index, purpose, action in cursor.fetchall()}


def processing_stopped(consumer: Consumer) -> str | None:
    """P38/P40: why this consumer must not be processed (called) at all, or None."""
    if consumer.objected_at:
        return "The person objected to being called."
    if consumer.restricted_at:
        return "Processing of this person's data is restricted."
    return None


_NEWEST_ATTESTATIONS = "newest_attestations"


def with_usability(lists: QuerySet[ContactList]) -> QuerySet[ContactList]:
    """`lists` with what the member count, `current_attestation` and `list_unusable_reasons`
    need, fetched for all of them at once rather than list by list."""
    completed = ImportJob.objects.filter(contact_list=OuterRef("pk"), status=ImportJob.Status.COMPLETED)
    newest_first = LawfulBasisAttestation.objects.select_related("attested_by").order_by("-attested_at", "-id")
    return lists.annotate(consumer_count=Count("memberships"), has_completed_import=Exists(completed)).prefetch_related(
        Prefetch("attestations", queryset=newest_first, to_attr=_NEWEST_ATTESTATIONS)
    )


def current_attestation(contact_list: ContactList) -> LawfulBasisAttestation | None:
    prefetched = getattr(contact_list, _NEWEST_ATTESTATIONS, None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return contact_list.attestations.select_related("attested_by").order_by("-attested_at", "-id").first()


class Refusal(NamedTuple):
    """One reason a call may not go ahead: a stable code (the pre-call gate counts by it) and words for people."""

    code: str
    message: str


NOT_ON_LIST = "not_on_list"
LIST_UNUSABLE = "list_unusable"
SCREENING_STALE = "screening_stale"
STOPPED = "stopped"
SUPPRESSED = "suppressed"
TPS_REGISTERED = "tps_registered"
NO_CONSENT = "no_consent"


def _list_refusals(contact_list: ContactList, *, now: datetime.datetime | None = None) -> list[Refusal]:
    refusals = []
    if current_attestation(contact_list) is None:
        refusals.append(Refusal(LIST_UNUSABLE, "No lawful basis has been attested for this list."))
    imported = getattr(contact_list, "has_completed_import", None)
    if imported is None:
        imported = contact_list.import_jobs.filter(status=ImportJob.Status.COMPLETED).exists()
    if not imported:
        refusals.append(Refusal(LIST_UNUSABLE, "No import into this list has completed."))
    if contact_list.is_marketing and not screening_is_current(contact_list, now=now):
        refusals.append(Refusal(SCREENING_STALE, "The list has not been screened against the TPS/CTPS in the last 28 days."))
    return refusals


def list_unusable_reasons(contact_list: ContactList, *, now: datetime.datetime | None = None) -> list[str]:
    """Why a campaign may not use this list yet (empty when it may)."""
    return [refusal.message for refusal in _list_refusals(contact_list, now=now)]


def call_refusals_among(
    consumers: Sequence[Consumer], *, contact_lists: Sequence[ContactList], now: datetime.datetime | None = None
) -> dict[int, list[Refusal]]:
    """Every reason each of one organisation's consumers may not be called from `contact_lists` now.

    {consumer id: refusals}; an empty list means the call may go ahead. One
    query answers for every consumer at once (`_CALL_FACTS_SQL`: lists,
    do-not-call lists, and for marketing the TPS/CTPS files and the consent
    ledger), so the pre-call gate decides a batch in a fixed number of queries.
    Pass lists from `with_usability()` to fetch their own state in one go too.
    """
    if not consumers:
        return {}
    now = now or timezone.now()
    (organisation_id,) = {c.organisation_id for c in consumers}
    # P05: a record is used only for the lists (and client) that supplied it.
    lists = {cl.pk: cl for cl in contact_lists if cl.organisation_id == organisation_id}
    list_refusals = {pk: _list_refusals(cl, now=now) for pk, cl in lists.items()}
    marketing = any(cl.is_marketing for cl in lists.values())
    facts = _call_facts([c.pk for c in consumers], list(lists), marketing=marketing, at=now)
    return {c.pk: _consumer_refusals(c, facts.get(c.pk), lists, list_refusals) for c in consumers}


# For each consumer (by id): the given lists it is on, whether its number is on the client's or
# the platform's do-not-call list, and for marketing whether it is on a current TPS/CTPS file and
# the latest ledger action for each marketing purpose (P18/P41: latest by occurred_at, then id).
# The numbers are compared as the stored blind indexes, in SQL: nothing is decrypted or hashed.
_CALL_FACTS_SQL = """
SELECT c.id,
  ARRAY(SELECT m.contact_list_id FROM {membership} m WHERE m.consumer_id = c.id AND m.contact_list_id = ANY(%(lists)s)),
  EXISTS(SELECT 1 FROM {suppression} s WHERE s.organisation_id = c.organisation_id AND s.phone_index = c.phone_index)
    OR EXISTS(SELECT 1 FROM {platform} p WHERE p.phone_index = c.phone_index),
  %(marketing)s AND EXISTS(SELECT 1 FROM {registered} n JOIN {registers} r ON r.id = n.register_id
                           WHERE r.status = %(current)s AND n.phone_index = c.phone_index),
  CASE WHEN %(marketing)s THEN ARRAY(
    SELECT e.purpose || ':' || (SELECT x.action FROM {consent} x
                               WHERE x.organisation_id = c.organisation_id AND x.phone_index = c.phone_index
                                 AND x.purpose = e.purpose AND x.occurred_at <= %(at)s
                               ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
    FROM unnest(%(purposes)s::text[]) AS e(purpose)) END
FROM {consumer} c WHERE c.id = ANY(%(ids)s)
"""


def _call_facts(consumer_ids: list[int], list_ids: list[int], *, marketing: bool, at) -> dict[int, tuple]:
    sql = _CALL_FACTS_SQL.format(
        membership=ListMembership._meta.db_table,
        suppression=Suppression._meta.db_table,
        platform=PlatformSuppression._meta.db_table,
        registered=RegisteredNumber._meta.db_table,
        registers=ScreeningRegister._meta.db_table,
        consent=ConsentRecord._meta.db_table,
        consumer=Consumer._meta.db_table,
    )
    params = {
        "ids": consumer_ids,
        "lists": list_ids,
        "marketing": marketing,
        "current": ScreeningRegister.Status.CURRENT,
        "purposes": list(MARKETING_CONSENT_PURPOSES),
        "at": at,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _consumer_refusals(consumer, facts, lists, list_refusals) -> list[Refusal]:
    on_lists = [lists[pk] for pk in (facts[0] if facts else [])]
    if not on_lists:
        return [Refusal(NOT_ON_LIST, "The consumer is not on this list.")]
    _, suppressed, registered, consent = facts
    usable = [cl for cl in on_lists if not list_refusals[cl.pk]]
    refusals = [] if usable else list(list_refusals[on_lists[0].pk])
    stopped = processing_stopped(consumer)
    if stopped:
        refusals.append(Refusal(STOPPED, stopped))
    if suppressed:
        refusals.append(Refusal(SUPPRESSED, "The number is on the do-not-call list."))
    if any(cl.is_marketing for cl in usable or on_lists):
        if registered:
            refusals.append(Refusal(TPS_REGISTERED, "The number is registered with the TPS or CTPS."))
        latest = dict(entry.split(":", 1) for entry in consent or [] if entry)
        for purpose in MARKETING_CONSENT_PURPOSES:
            if latest.get(purpose) != ConsentRecord.Action.GIVEN:
                label = ConsentRecord.Purpose(purpose).label
                refusals.append(Refusal(NO_CONSENT, f"No valid consent for {label[0].lower()}{label[1:]}."))
    return refusals


def call_refusals(*, consumer: Consumer, contact_list: ContactList, now: datetime.datetime | None = None) -> list[str]:
    """Every reason this consumer may not be called from this list now; empty when the call may go ahead."""
    if consumer.organisation_id != contact_list.organisation_id:
        return [Refusal(NOT_ON_LIST, "The consumer is not on this list.").message]
    refusals = call_refusals_among([consumer], contact_lists=[contact_list], now=now)[consumer.pk]
    return [refusal.message for refusal in refusals]


# --- Reads for the portal and API ------------------------------------------------


def contact_lists_for(organisation) -> QuerySet[ContactList]:
    return ContactList.objects.filter(organisation=organisation).annotate(consumer_count=Count("memberships"))


def consumer_search(*, organisation, phone: str = "", email: str = "") -> QuerySet[Consumer]:
    """Consumers of `organisation` with this phone number or e-mail (any spelling), via the blind index."""
    conditions = Q()
    if phone:
        conditions |= Q(phone_index=digest("phone", phone))
    if email:
        conditions |= Q(email_index=digest("email", normalise_email(email)))
    if not conditions:
        return Consumer.objects.none()
    return Consumer.objects.filter(conditions, organisation=organisation).order_by("id")


def consent_history(consumer: Consumer) -> QuerySet[ConsentRecord]:
    return _ledger_of(consumer).order_by("-occurred_at", "-id")


def consent_status(consumer: Consumer) -> dict[str, bool]:
    latest = _latest_consent_actions(consumer.organisation_id, [consumer.phone_index])
    return _consent_status_from(latest, consumer.phone_index)


def _consent_status_from(latest: dict[tuple[bytes, str], str], phone_index: bytes) -> dict[str, bool]:
    return {purpose: latest.get((phone_index, purpose)) == ConsentRecord.Action.GIVEN for purpose in ConsentRecord.Purpose.values}


def consumer_summaries(consumers: list[Consumer]) -> dict[int, dict]:
    """For each consumer of one organisation: the ids of its lists (by name), its consent status
    per purpose and whether its number is on the do-not-call list. Three queries however many."""
    if not consumers:
        return {}
    (organisation_id,) = {c.organisation_id for c in consumers}
    indexes = [c.phone_index for c in consumers]
    lists: dict[int, list[int]] = {c.pk: [] for c in consumers}
    memberships = ListMembership.objects.filter(consumer__in=consumers).order_by("contact_list__name")
    for consumer_id, list_id in memberships.values_list("consumer_id", "contact_list_id"):
        lists[consumer_id].append(list_id)
    latest = _latest_consent_actions(organisation_id, indexes)
    suppressed = suppressed_among(indexes, organisation=organisation_id)
    return {
        c.pk: {
            "lists": lists[c.pk],
            "consent": _consent_status_from(latest, c.phone_index),
            "suppressed": c.phone_index in suppressed,
        }
        for c in consumers
    }


def lists_of(consumer: Consumer) -> QuerySet[ContactList]:
    return ContactList.objects.filter(memberships__consumer=consumer).order_by("name")


class MemberState:
    """What the members filter (portal and API) can ask for: who may be called, and who may not and why."""

    ACTIVE = "active"  # nothing of the person's own stops a call (list-wide rules aside)
    RESTRICTED = "restricted"
    OBJECTED = "objected"
    SUPPRESSED = "suppressed"  # on the do-not-call list
    CHOICES = [
        (ACTIVE, "May be called"),
        (RESTRICTED, "Restricted"),
        (OBJECTED, "Objected"),
        (SUPPRESSED, "On the do-not-call list"),
    ]
    VALUES = [value for value, _ in CHOICES]


def list_members(contact_list: ContactList, *, state: str | None = None) -> QuerySet[Consumer]:
    """The people on a list, oldest first, with `suppressed` annotated; `state` narrows them (MemberState)."""
    own = Suppression.objects.filter(organisation_id=contact_list.organisation_id, phone_index=OuterRef("phone_index"))
    platform = PlatformSuppression.objects.filter(phone_index=OuterRef("phone_index"))
    members = Consumer.objects.filter(memberships__contact_list=contact_list).annotate(suppressed=Exists(own) | Exists(platform))
    if state == MemberState.SUPPRESSED:
        members = members.filter(suppressed=True)
    elif state == MemberState.OBJECTED:
        members = members.filter(objected_at__isnull=False)
    elif state == MemberState.RESTRICTED:
        members = members.filter(restricted_at__isnull=False, objected_at__isnull=True)
    elif state == MemberState.ACTIVE:
        members = members.filter(suppressed=False, objected_at__isnull=True, restricted_at__isnull=True)
    return members.order_by("id")


def member_state(consumer: Consumer) -> str:
    """The MemberState of one member of `list_members` (the first that applies)."""
    if getattr(consumer, "suppressed", False):
        return MemberState.SUPPRESSED
    if consumer.objected_at:
        return MemberState.OBJECTED
    if consumer.restricted_at:
        return MemberState.RESTRICTED
    return MemberState.ACTIVE


# Fields of a consumer that are personal data, and what a member without SEE_PERSONAL_DATA sees instead.
_MASKED = {
    "name": lambda c: None,
    "phone": lambda c: mask_phone(c.phone),
    "email": lambda c: mask_email(c.email) if c.email else None,
    "date_of_birth": lambda c: None,
    "postcode": lambda c: None,
    "restriction_reason": lambda c: None,
}


class MaskedConsumer:
    """A consumer as seen without the capability to see personal data: its state and dates,
    the last digits of the number, a hint of the address; never the name or anything else.

    Wraps the record, so templates and serializers read it like a Consumer."""

    masked = True

    def __init__(self, consumer: Consumer):
        self._consumer = consumer

    @property
    def record(self) -> Consumer:
        return self._consumer

    def __getattr__(self, name):
        if name in _MASKED:
            return _MASKED[name](self._consumer)
        return getattr(self._consumer, name)


def as_seen_by(consumers, *, personal_data: bool):
    """The consumers as someone with (or without) the capability to see personal data may see them."""
    return list(consumers) if personal_data else [MaskedConsumer(c) for c in consumers]


def members_export_rows(contact_list: ContactList) -> Iterator[list]:
    """The rows of a list export (P39's CSV, for the client): one person a line, streamed."""
    for consumer in list_members(contact_list).iterator(chunk_size=2000):
        yield [
            consumer.name,
            consumer.phone,
            consumer.email,
            consumer.date_of_birth.isoformat() if consumer.date_of_birth else "",
            consumer.postcode,
            consumer.timezone,
            member_state(consumer),
            consumer.created_at.isoformat(),
        ]


MEMBERS_EXPORT_HEADER = ["Name", "Phone", "Email", "Date of birth", "Postcode", "Time zone", "State", "Added"]


# --- Lookups for the portal and the API: always within one organisation (P04) ---------


def contact_list_of(organisation, list_id) -> ContactList:
    return get_object_or_404(ContactList, pk=list_id, organisation=organisation)


def import_job_of(organisation, job_id) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("contact_list"), pk=job_id, organisation=organisation)


def consumer_of(organisation, consumer_id) -> Consumer:
    return get_object_or_404(Consumer, pk=consumer_id, organisation=organisation)


def import_progress(job: ImportJob) -> dict:
    """An import's figures as the progress bar and the API show them."""
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.finished,
        "percent": job.percent_done,
        "total_rows": job.total_rows,
        "rows_read": job.rows_read,
        "accepted": job.accepted,
        "created": job.created,
        "updated": job.updated,
        "warnings": job.warnings,
        "rejected": job.rejected,
        "minors": job.minors,
        "suppressed": job.suppressed,
        "screened_out": job.screened_out,
        "duplicates": job.duplicates,
        "rejected_rows_available": job.finished and rejected_rows_exist(job),
        "failure_reason": job.failure_reason,
    }


def discarding_leaves_list_empty(job: ImportJob) -> bool:
    """Whether discarding this upload leaves its list with nothing: no people, no other upload, no attestation."""
    contact_list = job.contact_list
    return not (
        contact_list.import_jobs.exclude(pk=job.pk).exists()
        or contact_list.memberships.exists()
        or contact_list.attestations.exists()
    )


def _correctable(job: ImportJob) -> QuerySet:
    return job.problems.filter(kept=False, cells__isnull=False)


def rejected_rows_exist(job: ImportJob) -> bool:
    return _correctable(job).exists()


def rejected_rows(job: ImportJob) -> Iterator[list[str]]:
    """The rejected rows the client can correct, in the file's own columns, ready to upload again.

    Columns the import did not keep are left empty: we never stored them (P10).
    Suppressed, screened-out and under-16 rows never had their values kept.
    """
    width = len(job.columns)
    for problem in _correctable(job).order_by("row_number", "id").iterator(chunk_size=2000):
        cells = json.loads(problem.cells)
        yield [cells.get(str(index), "") for index in range(width)]


def consumers_with_phone_in(*, organisation, phone_indexes: Iterable[bytes]) -> QuerySet[Consumer]:
    return Consumer.objects.filter(organisation=organisation, phone_index__in=list(phone_indexes))


def suppression_counts(organisation) -> dict[str, int]:
    return dict(Suppression.objects.filter(organisation=organisation).values_list("reason").annotate(n=Count("id")).order_by())


def imports_in_progress(organisation) -> list[ImportJob]:
    """Uploads waiting for their columns, and imports queued or running, newest first."""
    waiting = (ImportJob.Status.UPLOADED, *ACTIVE_IMPORT_STATUSES)
    return list(
        ImportJob.objects.filter(organisation=organisation, status__in=waiting)
        .select_related("contact_list")
        .order_by("-uploaded_at")[:10]
    )


def imports_needing_a_worker(*, stalled_before: datetime.datetime) -> QuerySet[ImportJob]:
    """Jobs queued or running whose worker has not checked in since `stalled_before`."""
    return ImportJob.objects.filter(status__in=ACTIVE_IMPORT_STATUSES, heartbeat_at__lt=stalled_before)


def abandoned_uploads(*, uploaded_before: datetime.datetime) -> QuerySet[ImportJob]:
    """Uploads never taken past the mapping step: their files hold personal data nobody will import."""
    return ImportJob.objects.filter(status=ImportJob.Status.UPLOADED, uploaded_at__lt=uploaded_before)
