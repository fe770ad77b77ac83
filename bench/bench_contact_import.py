"""Contact-list import: a 200,000-row CSV end to end, against a floor and against django-import-export.

Three measurements on the same generated file, each in its own process (so
peak memory is that process's own, read from ru_maxrss):

- ours: the real pipeline (services.import_job_run): file check, row
  validation, de-duplication, suppression, COPY into staging, set-based upsert,
  list memberships, error report, chunk checkpoints.
- floor: the least any import must do with the same rows: parse each number
  with phonenumbers, encrypt the fields, COPY them into a table of the same shape.
- import-export: the same rows into the same model through django-import-export,
  as a typical Django team would write it (first IMPORT_EXPORT_ROWS rows only:
  it runs row by row and would take many minutes on the whole file).

Ours also runs on a quarter of the file, to show its peak memory does not
grow with the file. The file: UK numbers in the Ofcom drama ranges
(020 7946 0xxx, 0113 496 0xxx, ...) and generated mobiles in mixed spellings,
5% duplicates, 2% invalid numbers, 1% already on a do-not-call list.
"""

import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.files import File
from django.db import connection

from bench.import_worker import database_url
from bench.util import table
from nextsupport.fields import digest
from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone

ROWS = 200_000
SMALL_ROWS = 50_000
# Ours and the floor, in turns (see run()).
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))
IMPORT_EXPORT_ROWS = 10_000
DUPLICATES = 0.05
INVALID = 0.02
SUPPRESSED = 0.01
ROOT = Path(__file__).resolve().parent.parent

_LANDLINE_BLOCKS = [
    "020 7946 0",
    "0113 496 0",
    "0114 496 0",
    "029 2018 0",
    "0116 496 0",
    "0117 496 0",
    "0118 496 0",
    "0121 496 0",
    "0131 496 0",
    "0141 496 0",
    "0151 496 0",
    "0161 496 0",
    "0191 498 0",
    "028 9649 6",
]
_INVALID = ["12345", "n/a", "07911 12345", "+44 20 7946", "0800 00", "unknown", "7.91112E+09", "020 7946 00001"]
_FIRST = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Noah",
    "George",
    "Oliver",
    "Arthur",
    "Leo",
    "Harry",
    "Muhammad",
    "Freya",
    "Priya",
    "Siobhan",
    "Callum",
    "Eilidh",
    "Rhys",
    "Aisha",
    "Tomasz",
]
_LAST = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Patel",
    "Khan",
    "Murphy",
    "O'Brien",
    "MacDonald",
    "Nowak",
    "Hughes",
    "Edwards",
    "Roberts",
    "Walker",
    "Wright",
]
_POSTCODES = ["LS1 4AP", "M1 1AE", "SW1A 1AA", "EH1 1YZ", "CF10 1EP", "BT1 5GS", "B1 1BB", "G1 1XQ", "NE1 7RU", "BS1 4DJ"]


def _spellings(e164: str, rng) -> str:
    national = "0" + e164[3:]
    if national.startswith("07"):
        return rng.choice([f"{national[:5]} {national[5:]}", national, f"+44 {e164[3:7]} {e164[7:]}", e164, f"0044{e164[3:]}"])
    if national.startswith("02"):
        return rng.choice(
            [f"({national[:3]}) {national[3:7]} {national[7:]}", national, f"+44 {e164[3:5]} {e164[5:9]} {e164[9:]}"]
        )
    return rng.choice([f"{national[:4]} {national[4:7]} {national[7:]}", national, e164])


def _numbers(count: int, rng) -> list[str]:
    landlines = [normalise_phone(block + f"{n:03d}") for block in _LANDLINE_BLOCKS for n in range(1000)]
    rng.shuffle(landlines)
    wanted_landlines = min(len(landlines), count // 10)
    numbers, seen = landlines[:wanted_landlines], set(landlines[:wanted_landlines])
    while len(numbers) < count:
        candidate = f"07{rng.choice('12345789')}{rng.randrange(10**7, 10**8)}"
        try:
            e164 = normalise_phone(candidate)
        except InvalidPhoneNumber:
            continue
        if e164 not in seen:
            seen.add(e164)
            numbers.append(e164)
    rng.shuffle(numbers)
    return numbers


def generate(path: Path, rows: int, seed: int = 2026) -> list[str]:
    """Write the CSV; returns the distinct valid numbers in it (E.164)."""
    rng = random.Random(seed)
    unique = int(rows * (1 - DUPLICATES - INVALID))
    numbers = _numbers(unique, rng)
    slots = ["unique"] * unique + ["duplicate"] * int(rows * DUPLICATES)
    slots += ["invalid"] * (rows - len(slots))
    rng.shuffle(slots)
    used, next_unique = [], 0
    with open(path, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Name", "Phone", "Email", "Date of birth", "Postcode", "Customer ID", "Notes"])
        for i, slot in enumerate(slots):
            if slot == "invalid" or (slot == "duplicate" and not used):
                phone = rng.choice(_INVALID)
            elif slot == "duplicate":
                phone = _spellings(rng.choice(used), rng)
            else:
                e164 = numbers[next_unique]
                next_unique += 1
                used.append(e164)
                phone = _spellings(e164, rng)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}{i}@example.co.uk".lower().replace("'", "") if rng.random() < 0.7 else ""
            # Mostly adults; one row in a thousand is a child (rejected, never stored).
            year = rng.randrange(1940, 2005) if rng.random() > 0.001 else 2018
            born = f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/{year}" if rng.random() < 0.3 else ""
            postcode = rng.choice(_POSTCODES) if rng.random() < 0.5 else ""
            writer.writerow([f"{first} {last}", phone, email, born, postcode, f"CRM-{100000 + i}", "Prefers evening calls"])
    return numbers


def _child(*args) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "nextsupport.settings.test",
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "bench.import_worker", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"bench.import_worker {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _organisation(name: str):
    from accounts.models import Membership, Organisation, Role, User

    organisation = Organisation.objects.create(legal_name=name)
    user = User.objects.create_user(f"bench-{organisation.pk}@example.org", "bench-password-123456")
    Membership.objects.create(user=user, organisation=organisation, role=Role.OWNER)
    return organisation, user


def _queued_job(path: Path, label: str):
    from consumers import services
    from consumers.rows import suggest_mapping
    from consumers.tasks import run_import

    organisation, user = _organisation(f"Bench {label}")
    contact_list = services.contact_list_create(organisation=organisation, name=label, purpose="service", created_by=user)
    services.contact_list_attest(
        contact_list=contact_list, basis="contract", wording="Benchmark customers who asked to be called back.", by=user
    )
    with open(path, "rb") as stream:
        job = services.import_job_create(contact_list=contact_list, upload=File(stream, name=path.name), uploaded_by=user)
    # Queued but not run here (Celery is eager under the test settings): the
    # measured child process runs it.
    with mock.patch.object(run_import, "delay_on_commit"):
        services.import_job_start(job=job, mapping=suggest_mapping(job.columns), by=user)
    return organisation, job


def _suppress(numbers: list[str], organisations) -> None:
    from consumers.models import PlatformSuppression, Suppression

    chosen = random.Random(5).sample(numbers, int(len(numbers) * SUPPRESSED))
    half = len(chosen) // 2
    PlatformSuppression.objects.bulk_create(
        PlatformSuppression(phone_index=digest("phone", n), reason="opt_out", source="web_opt_out") for n in chosen[:half]
    )
    Suppression.objects.bulk_create(
        Suppression(organisation=o, phone_index=digest("phone", n), reason="opt_out", source="client_request")
        for o in organisations
        for n in chosen[half:]
    )


def run() -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    big, small = workdir / "contacts-200k.csv", workdir / "contacts-50k.csv"
    numbers = generate(big, ROWS)
    with open(big, encoding="utf-8-sig") as source, open(small, "w", encoding="utf-8-sig") as target:
        for _, line in zip(range(SMALL_ROWS + 1), source, strict=False):
            target.write(line)
    print(f"generated {ROWS:,} rows ({big.stat().st_size / 1e6:.1f} MB)")

    # Ours and the floor in turns, ROUNDS times, each on a fresh organisation: on a shared machine
    # the load drifts between two runs minutes apart, so the ratio quoted is the median of each
    # round's own ratio (ours against the floor run right after it), not a ratio of two lone runs.
    queued = [_queued_job(big, f"big {n}") for n in range(ROUNDS)]
    org_small, job_small = _queued_job(small, "small")
    org_floor, _ = _organisation("Bench floor")
    org_ie, _ = _organisation("Bench import-export")
    _suppress(numbers, [*(organisation for organisation, _ in queued), org_small])

    media = settings.STORAGES["default"]["OPTIONS"]["location"]
    rounds = []
    for _, job in queued:
        ours_round = _child("ours", media, job.pk)
        floor_round = _child("floor", big, org_floor.pk)
        rounds.append((ours_round, floor_round))
    ours = rounds[0][0]
    ours_small = _child("ours", media, job_small.pk)
    typical = _child("import-export", big, org_ie.pk, IMPORT_EXPORT_ROWS)

    ours_rates = [o["rows"] / o["seconds"] for o, _ in rounds]
    floor_rates = [f["rows"] / f["seconds"] for _, f in rounds]
    ratios = [o / f for o, f in zip(ours_rates, floor_rates, strict=True)]
    rate = {
        "ours": statistics.median(ours_rates),
        "floor": statistics.median(floor_rates),
        "import_export": typical["rows"] / typical["seconds"],
    }
    floor = max((f for _, f in rounds), key=lambda f: f["peak_rss_mb"])
    figures = {
        "rows": ROWS,
        "ours_rows_per_s": round(rate["ours"]),
        "floor_rows_per_s": round(rate["floor"]),
        "import_export_rows_per_s": round(rate["import_export"]),
        "ours_to_floor_ratio": round(statistics.median(ratios), 2),
        "rounds": ROUNDS,
        "ours_to_floor_ratio_per_round": [round(r, 2) for r in ratios],
        "ours_to_import_export_ratio": round(rate["ours"] / rate["import_export"], 1),
        "ours_peak_rss_mb": max(o["peak_rss_mb"] for o, _ in rounds),
        "ours_peak_rss_mb_at_50k_rows": ours_small["peak_rss_mb"],
        "floor_peak_rss_mb": floor["peak_rss_mb"],
        "import_export_peak_rss_mb": typical["peak_rss_mb"],
        "import_export_rows_measured": typical["rows"],
        "django_baseline_rss_mb": ours["baseline_rss_mb"],
        "ours_outcome": ours["figures"],
    }
    print(
        table(
            [
                ("ours (end to end)", f"{ROWS:,}", f"{rate['ours']:,.0f}", ours["peak_rss_mb"]),
                (
                    "ours, quarter file",
                    f"{SMALL_ROWS:,}",
                    f"{ours_small['rows'] / ours_small['seconds']:,.0f}",
                    ours_small["peak_rss_mb"],
                ),
                ("floor (parse+encrypt+COPY)", f"{ROWS:,}", f"{rate['floor']:,.0f}", floor["peak_rss_mb"]),
                ("django-import-export", f"{typical['rows']:,}", f"{rate['import_export']:,.0f}", typical["peak_rss_mb"]),
            ],
            ("", "rows", "rows/s", "peak RSS MB"),
        )
    )
    print(
        f"ours / floor = {figures['ours_to_floor_ratio']:.2f} (median of {ROUNDS} rounds: "
        f"{', '.join(f'{r:.2f}' for r in figures['ours_to_floor_ratio_per_round'])}); "
        f"ours / import-export = {figures['ours_to_import_export_ratio']:.1f}x"
    )
    print(f"outcome: {ours['figures']}")
    return figures
