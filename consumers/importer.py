"""The contact-list import pipeline: stream, validate, screen, COPY, upsert, checkpoint.

    check_file(job)   one pass over the whole file: every byte decodes and every
                      record parses, or the job fails before a single row is
                      loaded (a bad file imports nothing); counts the rows.
    load(job)         chunk by chunk from the checkpoint: clean each row
                      (rows.RowCleaner), drop duplicates within the chunk, drop
                      suppressed numbers and, for marketing lists, numbers on the
                      TPS/CTPS (the rules are the selectors' functions), then in
                      ONE transaction: COPY the rows into a temporary staging
                      table, upsert consumers, list memberships and consent
                      entries in one set-based statement, write the row
                      problems, and move the checkpoint.

A chunk either commits whole, with its checkpoint, or not at all; a re-run
skips rows up to the checkpoint. Duplicates across chunks are found in SQL
(the consumer was already written by this job), so no per-file state lives
in memory and nothing is lost or doubled when a worker dies mid-file.
"""

import json
import time
from collections import Counter
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import csvfiles
from .models import ConsentRecord, Consumer, ImportJob, ImportProblem, ListMembership
from .rows import CleanRow, Problem, RowCleaner, Target
from .selectors import registered_among, suppressed_among

_LOCK_CLASS = 0x4E53_4349  # "NSCI": any constant; the second key is the job id
MAX_LISTED_PROBLEMS = 100_000
STAGE = "consumer_import_stage"
_STAGE_COLUMNS = [
    ("row_number", "int4"),
    ("phone", "bytea"),
    ("phone_index", "bytea"),
    ("name", "bytea"),
    ("email", "bytea"),
    ("email_index", "bytea"),
    ("date_of_birth", "bytea"),
    ("postcode", "bytea"),
    ("timezone", "bytea"),
    ("consent_at", "timestamptz"),
    ("consent_reference", "bytea"),
]
# ON COMMIT DELETE ROWS: each chunk's transaction leaves nothing behind.
_CREATE_STAGE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ({', '.join(f'{n} {t}' for n, t in _STAGE_COLUMNS)}) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY {STAGE} ({', '.join(n for n, _ in _STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"


def _upsert_sql() -> str:
    consumer, membership, consent = Consumer._meta.db_table, ListMembership._meta.db_table, ConsentRecord._meta.db_table
    # Rows are inserted in blind-index order so concurrent imports into one
    # organisation lock conflicting rows in the same order (no deadlocks).
    # A conflict with a row this same job already wrote is a duplicate within
    # the file: the WHERE leaves that row alone and RETURNING omits it.
    # Only table names from model metadata are interpolated; values are parameters.
    return f"""
    WITH upserted AS (
        INSERT INTO {consumer} AS c (
            organisation_id, name, phone, phone_index, email, email_index, date_of_birth, postcode, timezone,
            source_list_id, last_import_job_id, created_at, updated_at)
        SELECT %(organisation)s, s.name, s.phone, s.phone_index, s.email, s.email_index, s.date_of_birth,
            s.postcode, s.timezone, %(list)s, %(job)s, %(now)s, %(now)s
        FROM {STAGE} s ORDER BY s.phone_index
        ON CONFLICT (phone_index, organisation_id) DO UPDATE SET
            name = COALESCE(EXCLUDED.name, c.name),
            email = COALESCE(EXCLUDED.email, c.email),
            email_index = COALESCE(EXCLUDED.email_index, c.email_index),
            date_of_birth = COALESCE(EXCLUDED.date_of_birth, c.date_of_birth),
            postcode = COALESCE(EXCLUDED.postcode, c.postcode),
            timezone = COALESCE(EXCLUDED.timezone, c.timezone),
            last_import_job_id = EXCLUDED.last_import_job_id,
            released_at = NULL,
            updated_at = EXCLUDED.updated_at
        WHERE c.last_import_job_id IS DISTINCT FROM EXCLUDED.last_import_job_id
        RETURNING c.id, c.phone_index, (c.xmax = 0) AS inserted
    ), memberships AS (
        INSERT INTO {membership} (contact_list_id, consumer_id, added_at)
        SELECT %(list)s, u.id, %(now)s FROM upserted u
        ON CONFLICT (contact_list_id, consumer_id) DO NOTHING
    ), consents AS (
        INSERT INTO {consent} (
            organisation_id, consumer_id, phone_index, purpose, action, method, occurred_at,
            wording, wording_version, source_reference, import_job_id, recorded_by_id, recorded_at)
        SELECT %(organisation)s, u.id, u.phone_index, p.purpose, 'given', 'crm_import', s.consent_at,
            %(wording)s, %(wording_version)s, s.consent_reference, %(job)s, %(user)s, %(now)s
        FROM upserted u
        JOIN {STAGE} s ON s.phone_index = u.phone_index
        CROSS JOIN unnest(%(purposes)s::text[]) AS p(purpose)
        WHERE s.consent_at IS NOT NULL AND NOT EXISTS (
            -- The same evidence imported again (a re-upload of one CRM export) is not a new entry,
            -- even when the consumer row was deleted and created again since: the ledger is the number's.
            SELECT 1 FROM {consent} r
            WHERE r.organisation_id = %(organisation)s AND r.phone_index = u.phone_index AND r.purpose = p.purpose
              AND r.action = 'given' AND r.occurred_at = s.consent_at)
    )
    SELECT
        (SELECT count(*) FROM upserted WHERE inserted),
        (SELECT count(*) FROM upserted WHERE NOT inserted),
        ARRAY(SELECT s.row_number FROM {STAGE} s
              WHERE NOT EXISTS (SELECT 1 FROM upserted u WHERE u.phone_index = s.phone_index) ORDER BY 1)
    """  # noqa: S608


@contextmanager
def job_lock(job_id: int):
    """Hold a session advisory lock on the job; yields False when another worker holds it.

    A session lock (not a transaction lock) because chunks commit one by one
    under it; PostgreSQL drops it with the connection if the worker dies.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, job_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, job_id])


@contextmanager
def _reader(job: ImportJob):
    with job.file.open("rb") as stored:
        reader = csvfiles.FileReader(stored.file, encoding=job.encoding, delimiter=job.delimiter)
        try:
            yield reader
        finally:
            reader.close()


def check_file(job: ImportJob) -> None:
    """Read the whole file once before loading anything; ImportFileError if any of it is unreadable."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING, heartbeat_at=timezone.now())
    rows = 0
    with _reader(job) as reader:
        for _ in reader.rows():
            rows += 1
            if rows % 100_000 == 0:
                ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    if rows == 0:
        raise csvfiles.ImportFileError("The file has a header row but no contacts under it.", code="no_rows")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING, total_rows=rows, heartbeat_at=timezone.now())
    job.total_rows, job.status = rows, ImportJob.Status.IMPORTING


def load(job: ImportJob, *, deadline: float | None = None) -> bool:
    """Load the rows after the checkpoint; False when the deadline passed before the end of the file."""
    job.refresh_from_db(fields=["checkpoint_row", "problems_listed"])
    chunk = Chunk(job)
    batch: list[tuple[int, list[str]]] = []
    with _reader(job) as reader:
        for row_number, cells in reader.rows():
            if row_number <= job.checkpoint_row:
                continue
            batch.append((row_number, cells))
            if len(batch) >= settings.CONTACT_IMPORT_CHUNK_ROWS:
                chunk.load(batch, bytes_done=reader.bytes_done)
                batch = []
                if deadline is not None and time.monotonic() > deadline:
                    return False
        if batch:
            chunk.load(batch, bytes_done=reader.bytes_done)
    return True


class Chunk:
    """Loads one batch of rows for a job; the parts that stay the same between batches are kept here."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.organisation = job.organisation
        self.marketing = job.contact_list.is_marketing
        self.cleaner = RowCleaner(job.columns, job.mapping, marketing=self.marketing)
        self.phone_column = job.columns[int(next(i for i, t in job.mapping.items() if t == Target.PHONE))]
        self.fields = {
            name: Consumer._meta.get_field(name) for name in ("name", "phone", "email", "date_of_birth", "postcode", "timezone")
        }
        self.reference_field = ConsentRecord._meta.get_field("source_reference")
        self.sql = _upsert_sql()

    def load(self, batch: list[tuple[int, list[str]]], *, bytes_done: int) -> None:
        counts = Counter(rows_read=len(batch))
        problems: list[Problem] = []
        rows, minors = self._clean(batch, counts, problems)
        rows = self._screen(rows, set(minors), counts, problems)
        with transaction.atomic():
            if minors:
                from .services import consumers_delete_under_16  # services imports this module

                consumers_delete_under_16(organisation=self.organisation, phone_indexes=minors)
            created, updated, repeated = self._copy_and_upsert(rows)
            counts.update(created=created, updated=updated, duplicates=len(repeated))
            problems += [self._duplicate(row_number, None) for row_number in repeated]
            problems += self._warnings_of_imported(rows, set(repeated), counts)
            self._record_problems(problems, counts)
            _advance_checkpoint(self.job, counts, last_row=batch[-1][0], bytes_done=bytes_done)

    def _clean(self, batch, counts: Counter, problems: list) -> tuple[list[CleanRow], list[bytes]]:
        rows, minors, first_seen = [], [], {}
        for row_number, cells in batch:
            result = self.cleaner.clean(row_number, cells)
            if isinstance(result, Problem):
                counts["rejected"] += 1
                if result.minor_phone_index is not None:
                    counts["minors"] += 1
                    minors.append(result.minor_phone_index)
                problems.append(result)
            elif result.phone_index in first_seen:
                counts["duplicates"] += 1
                problems.append(self._duplicate(row_number, first_seen[result.phone_index]))
            else:
                first_seen[result.phone_index] = row_number
                rows.append(result)
        return rows, minors

    def _screen(self, rows: list[CleanRow], minors: set[bytes], counts: Counter, problems: list) -> list[CleanRow]:
        """Drop the rows whose number may not be imported, each with its reason (the first rule that applies)."""
        indexes = [row.phone_index for row in rows]
        rules = [
            # P48: a row without a date of birth must not bring in a number that
            # another row of this chunk shows is a child's. (Later chunks and
            # files find it on the do-not-call list, not written yet for this one.)
            (minors, "suppressed", "Under 16: another row of this file shows this number is a child's. Not imported."),
            (
                suppressed_among(indexes, organisation=self.organisation),
                "suppressed",
                "On the do-not-call list: this person asked not to be called. Not imported.",
            ),
            (
                registered_among(indexes) if self.marketing else set(),
                "screened_out",
                "Registered with the TPS or CTPS: not imported into a marketing list.",
            ),
        ]
        kept = []
        for row in rows:
            rule = next((rule for rule in rules if row.phone_index in rule[0]), None)
            if rule is None:
                kept.append(row)
                continue
            _, counter, reason = rule
            counts[counter] += 1
            problems.append(Problem(row.row_number, self.phone_column, None, reason))
        return kept

    @staticmethod
    def _warnings_of_imported(rows: list[CleanRow], repeated: set[int], counts: Counter) -> list[Problem]:
        """The warnings of the rows that were written: a screened-out or duplicate row's values are not reported."""
        warned = [row for row in rows if row.warnings and row.row_number not in repeated]
        counts["warnings"] += len(warned)
        return [warning for row in warned for warning in row.warnings]

    def _duplicate(self, row_number: int, first: int | None) -> Problem:
        earlier = f"row {first:,}" if first else "an earlier row"
        return Problem(row_number, self.phone_column, None, f"Same phone number as {earlier}: imported once.")

    def _copy_and_upsert(self, rows: list[CleanRow]) -> tuple[int, int, list[int]]:
        if not rows:
            return 0, 0, []
        encrypt = {name: field.encrypt for name, field in self.fields.items()}
        reference = self.reference_field.encrypt
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            # Inside an outer transaction (tests) a chunk commits no rows away.
            cursor.execute(f"TRUNCATE {STAGE}")
            with cursor.copy(_COPY) as copy:
                copy.set_types([t for _, t in _STAGE_COLUMNS])
                for r in rows:
                    copy.write_row(
                        (
                            r.row_number,
                            encrypt["phone"](r.phone),
                            r.phone_index,
                            encrypt["name"](r.name),
                            encrypt["email"](r.email),
                            r.email_index,
                            encrypt["date_of_birth"](r.date_of_birth),
                            encrypt["postcode"](r.postcode),
                            encrypt["timezone"](r.timezone),
                            r.consent_at,
                            reference(r.consent_reference or f"{self.job.original_filename}, row {r.row_number}")
                            if r.consent_at
                            else None,
                        )
                    )
            cursor.execute(self.sql, self._params())
            created, updated, repeated = cursor.fetchone()
            if self.job.clear_empty:
                self._clear_emptied(cursor, rows, set(repeated))
        return created, updated, list(repeated)

    # The details a mapped column can clear, with the columns that go with them.
    CLEARABLE = {
        "name": ("name",),
        "email": ("email", "email_index"),
        "date_of_birth": ("date_of_birth",),
        "postcode": ("postcode",),
        "timezone": ("timezone",),
    }

    def _clear_emptied(self, cursor, rows: list[CleanRow], repeated: set[int]) -> None:
        """Clear, on the records this chunk updated, the details whose cells were empty (asked for with clear_empty)."""
        mapped = {target: self.job.columns[int(index)] for index, target in self.job.mapping.items()}
        for field, columns in self.CLEARABLE.items():
            if field not in mapped:
                continue  # a column the file does not have clears nothing
            indexes = [
                r.phone_index
                for r in rows
                if getattr(r, field) is None
                and r.row_number not in repeated
                and not any(w.column == mapped[field] for w in r.warnings)  # invalid, not empty: keep the old value
            ]
            if indexes:
                assignments = ", ".join(f"{column} = NULL" for column in columns)
                cursor.execute(
                    f"UPDATE {Consumer._meta.db_table} SET {assignments} "  # noqa: S608 (names from this table only)
                    "WHERE organisation_id = %s AND last_import_job_id = %s AND phone_index = ANY(%s)",
                    [self.job.organisation_id, self.job.pk, indexes],
                )

    def _params(self) -> dict:
        job = self.job
        return {
            "organisation": job.organisation_id,
            "list": job.contact_list_id,
            "job": job.pk,
            "user": job.uploaded_by_id,
            "now": timezone.now(),
            "wording": job.consent_wording,
            "wording_version": job.consent_wording_version,
            "purposes": job.consent_purposes,
        }

    def _record_problems(self, problems: list[Problem], counts: Counter) -> None:
        room = max(0, MAX_LISTED_PROBLEMS - self.job.problems_listed)
        listed = sorted(problems, key=lambda p: p.row_number)[:room]
        ImportProblem.objects.bulk_create(
            ImportProblem(
                job_id=self.job.pk,
                row_number=p.row_number,
                column=p.column[:200],
                value=p.value,
                reason=p.reason[:300],
                kept=p.kept,
                cells=json.dumps(p.cells, ensure_ascii=False) if p.cells is not None else None,
            )
            for p in listed
        )
        counts["problems_listed"] = len(listed)
        self.job.problems_listed += len(listed)


_COUNTERS = (
    "rows_read",
    "created",
    "updated",
    "rejected",
    "minors",
    "suppressed",
    "screened_out",
    "duplicates",
    "warnings",
    "problems_listed",
)


def _advance_checkpoint(job: ImportJob, counts: Counter, *, last_row: int, bytes_done: int) -> None:
    """The last write of a chunk's transaction: counters and checkpoint move with the rows."""
    ImportJob.objects.filter(pk=job.pk).update(
        checkpoint_row=last_row,
        bytes_done=bytes_done,
        heartbeat_at=timezone.now(),
        **{name: F(name) + counts[name] for name in _COUNTERS},
    )
    job.checkpoint_row = last_row
