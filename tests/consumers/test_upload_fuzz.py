"""A fuzz target for the upload reader (hypothesis): encoding and dialect detection, header
parsing, streaming and row cleaning, then the whole import. Whatever bytes arrive, the only
errors are the reader's own refusals (ImportFileError, a person-readable reason), and no file
leaves a partial import behind: a refused or failed upload stores no consumer at all.

In the suite each target runs a few hundred examples; CI also runs them for FUZZ_SECONDS
(.ci/run), round after round of fresh examples, so the search goes on for a bounded time.
"""

import codecs
import io
import os
import time
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers import csvfiles, services
from consumers.models import ConsentRecord, Consumer, ImportJob, ListMembership
from consumers.rows import CleanRow, Problem, RowCleaner, suggest_mapping
from tests.consumers.conftest import make_list, upload

FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "0"))

HEADERS = ["Phone", "Mobile number", "Name", "First name", "Surname", "Email", "DOB", "Postcode", "Time zone", "Notes", ""]
CELLS = st.one_of(
    st.sampled_from(["07911 123456", "+44 20 7946 0123", "020 7946 0999", "7.9E+09", "'07700900123", "ada@example.org"]),
    st.sampled_from(["10/12/1985", "1985-12-10", "31/02/2001", "2099-01-01", "LS1 4AP", "Europe/London", "=1+1", "ÿ"]),
    st.text(max_size=30),
    st.text(alphabet='",;\t\r\n \x00\ufeff\u2028é€', max_size=8),
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1"]


@st.composite
def csv_files(draw) -> bytes:
    """Files that look more or less like a CRM export, then damaged in the ways real files are."""
    width = draw(st.integers(1, 6))
    header = draw(st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=12)), min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    quote = draw(st.booleans())

    def line(cells):
        return delimiter.join(f'"{c}"' if quote else c for c in cells)

    text = newline.join(line(r) for r in [header, *rows])
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="ignore")
    if draw(st.booleans()):  # damage: bytes replaced, inserted or cut off
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=0, max_size=4)) + data[at + draw(st.integers(0, 3)) :]
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"PK\x03\x04", b"%PDF"])) + data
    return data


ANY_FILE = st.one_of(csv_files(), st.binary(max_size=600))


def read_everything(data: bytes) -> list:
    """What the import does with a file, short of the database; raises only ImportFileError."""
    shape = csvfiles.inspect(io.BytesIO(data), size=len(data), max_bytes=10_000)
    reader = csvfiles.FileReader(io.BytesIO(data), encoding=shape.encoding, delimiter=shape.delimiter)
    mapping = suggest_mapping(shape.columns) or {"0": "phone"}
    if "phone" not in mapping.values():
        mapping = {**{k: v for k, v in mapping.items() if k != "0"}, "0": "phone"}
    cleaner = RowCleaner(shape.columns, mapping, marketing=False)
    results = [cleaner.clean(number, cells) for number, cells in reader.rows()]
    assert all(isinstance(r, CleanRow | Problem) for r in results)
    return results


def bounded(target, *, examples: int):
    """Run a hypothesis target once, or round after round until FUZZ_SECONDS have passed."""
    run = settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(target)
    deadline = time.monotonic() + FUZZ_SECONDS
    run()
    while time.monotonic() < deadline:
        run()  # fresh random examples each round


def test_the_reader_refuses_or_reads_any_file_and_never_crashes():
    @given(ANY_FILE)
    def target(data):
        try:
            read_everything(data)
        except csvfiles.ImportFileError as refusal:
            assert refusal.messages and all(message.strip() for message in refusal.messages)

    bounded(target, examples=400)


@pytest.mark.obligation("P10")
def test_no_file_leaves_a_partial_import_behind(organisation, owner):
    contact_list = make_list(organisation, owner)
    outcomes = Counter()

    @given(ANY_FILE)
    def target(data):
        with transaction.atomic():
            outcomes[_import_or_refuse(contact_list, owner, data)] += 1
            transaction.set_rollback(True)  # each example starts from the same empty list

    # Enough examples that some files get through: most damaged ones are (rightly) refused at upload.
    bounded(target, examples=200)

    # The search reached every way a file can end, not only the first refusal
    assert outcomes["refused"] and outcomes[ImportJob.Status.COMPLETED], outcomes


def _import_or_refuse(contact_list, owner, data: bytes) -> str:
    try:
        job = services.import_job_create(contact_list=contact_list, upload=upload(data), uploaded_by=owner)
    except csvfiles.ImportFileError:
        assert not ImportJob.objects.filter(contact_list=contact_list).exists()  # refused: nothing stored
        return "refused"
    mapping = suggest_mapping(job.columns)
    if "phone" not in mapping.values():
        mapping = {**mapping, "0": "phone"} if "0" not in mapping else {"0": "phone"}
    try:
        services.import_job_start(job=job, mapping=mapping, by=owner)
    except ValidationError:
        assert not Consumer.objects.filter(organisation=contact_list.organisation).exists()
        return "refused"
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    members = ListMembership.objects.filter(contact_list=contact_list).count()
    if job.status == ImportJob.Status.FAILED:
        # A bad file imports nothing: not one consumer, membership or consent entry.
        assert (members, Consumer.objects.count(), ConsentRecord.objects.count()) == (0, 0, 0), job.failure_reason
        assert job.failure_reason
    else:
        assert job.status == ImportJob.Status.COMPLETED
        assert members == job.created + job.updated
        assert job.rows_read == job.created + job.updated + job.rejected + job.duplicates + job.suppressed + job.screened_out
    return job.status
