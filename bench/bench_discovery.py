"""Discovery: find and package one person among 1 million consumer records across 200 organisations.

Seeding is set-based: 200 organisations in one INSERT, then the consumer rows
in one COPY. Each row's blind index is the platform's own digest of a distinct
number (computed once per number in Python, as an import computes it); the
encrypted phone column carries one shared ciphertext, since discovery decrypts
only the rows it finds. The subject is real: three consumer records (in three
organisations) with calls, responses and consent entries, written through the
models like any other data.

Measured side by side, medians of several rounds:
  discovery       compliance.discovery.find(subject): every registration, models, decryption
                  (its queries compiled by an earlier request of the same shape, as in a running process)
  discovery_cold  the same with the compiled queries forgotten before each round (the ORM builds them all)
  bare queries    the same SQL discovery runs, compiled here by the ORM and executed raw
                  (no model layer, no decryption)
  bare lookup     one indexed SELECT of the consumer rows by blind index
  package         compliance.packages.build_package(discovery)
Targets: discovery under 1 s, and within 3x of the bare queries.
Every column discovery looks a subject up by (and every foreign key its
semi-joins follow) must lead an index: the bench lists any that does not, and
the plan of each query against the million-row table.
BENCH_DISCOVERY_ROWS=100000 for a quick run; BENCH_PROFILE=1 prints where discovery spends its time.
"""

import json
import os
import statistics
import time

from django.core.exceptions import EmptyResultSet
from django.db import connection

from bench.util import table, timed

ORGANISATIONS = 200
ROWS = int(os.environ.get("BENCH_DISCOVERY_ROWS", "1000000"))
PHONE, EMAIL = "+447911200300", "ada@home.example"


def _seed() -> None:
    from accounts.models import Organisation
    from consumers.models import Consumer
    from nextsupport import crypto

    started = time.perf_counter()
    organisations = Organisation.objects.bulk_create(
        Organisation(legal_name=f"Bench client {n}", company_number=f"{20000000 + n}") for n in range(ORGANISATIONS)
    )
    organisation_ids = [o.pk for o in organisations]
    # One real ciphertext, shared by every seeded row: discovery decrypts only the rows it finds.
    template = Consumer.objects.create(organisation=organisations[-1], phone="+447000000001")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM consumers_consumer WHERE id = %s", [template.pk])
        shared = bytes(cursor.fetchone()[0])
    template.delete()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY consumers_consumer (organisation_id, phone, phone_index, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(ROWS):
                # Already in E.164: the digest of the normalised number, exactly as an import stores it.
                index = crypto.blind_index("phone", f"+44790{i:07d}")
                copy.write_row((organisation_ids[i % ORGANISATIONS], shared, index, "2026-11-01 00:00Z", "2026-11-01 00:00Z"))
        cursor.execute("ANALYZE consumers_consumer")
    print(f"seeded {ROWS:,} consumers in {ORGANISATIONS} organisations in {time.perf_counter() - started:.1f} s")
    _subject(organisation_ids)


def _subject(organisation_ids) -> None:
    from accounts.models import Organisation
    from tests.factories import CallFactory, ConsentRecordFactory

    for pk in organisation_ids[:3]:
        organisation = Organisation.objects.get(pk=pk)
        call = CallFactory(organisation=organisation, contact__consumer__phone=PHONE, contact__consumer__email=EMAIL)
        ConsentRecordFactory(organisation=organisation, consumer=call.consumer)


def _bare_queries(subject):
    """The SQL discovery runs, compiled once, to execute without the model layer."""
    from compliance.discovery import rows_in_scope, with_user_account
    from nextsupport import privacy

    subject = with_user_account(subject)
    compiled = []
    for registration in privacy.registrations():
        try:
            compiled.append((registration.label, *rows_in_scope(registration, subject, None).order_by().query.sql_with_params()))
        except EmptyResultSet:
            continue  # nothing to match (no identifier of that kind): discovery runs no query either
    return compiled


def _unindexed_lookups() -> list[str]:
    """Columns discovery looks rows up by that lead no index ("table.column"): each would be a scan at scale."""
    from nextsupport import privacy

    needed = set()
    for registration in privacy.registrations():
        for path in registration.subject.values():
            model = registration.model
            for part in path.split("__"):
                field = model._meta.get_field(part)
                if field.is_relation:
                    # A semi-join from the related rows back to this model's: by this model's foreign key.
                    needed.add((model._meta.db_table, field.column))
                    model = field.related_model
                elif not field.primary_key:
                    needed.add((model._meta.db_table, field.column))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, a.attname FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
            """
        )
        leading = set(cursor.fetchall())
    return sorted(f"{table}.{column}" for table, column in needed - leading)


def _full_scans(queries) -> dict[str, list[str]]:
    """Per discovery query, the tables PostgreSQL would still read in full with sequential scans ruled out.

    Only the consumer table is large here, so the planner's own choice for the
    small tables proves nothing; with sequential scans disabled it takes an index
    wherever one can serve the query, and what it still scans in full (a Seq Scan,
    or an index walked without a condition) no index can serve.
    """
    found = {}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for label, sql, params in queries:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
                full = sorted(set(_full_scan_tables(plan)))
                if full:
                    found[label] = full
        finally:
            cursor.execute("RESET enable_seqscan")
    return found


def _full_scan_tables(node):
    kind = node["Node Type"]
    if kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and "Index Cond" not in node):
        yield node.get("Relation Name") or node.get("Index Name")
    for child in node.get("Plans", ()):
        yield from _full_scan_tables(child)


def _consumer_plan(queries) -> str:
    """The plan of the query against the million-row consumer table, as the planner chooses it."""
    from consumers.models import Consumer

    sql, params = next((sql, params) for label, sql, params in queries if label == Consumer._meta.label)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "; ".join(row[0].strip().removeprefix("->").strip() for row in cursor.fetchall() if "Scan" in row[0])


def _alternating(functions: dict, rounds: int) -> dict[str, float]:
    """Median seconds of each function, run in turn within every round."""
    samples = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def run() -> dict:
    from compliance import discovery
    from compliance.packages import build_package
    from consumers.models import Consumer
    from nextsupport import privacy
    from nextsupport.fields import digest

    _seed()
    subject = privacy.Subject(phone=PHONE, email=EMAIL)
    found = discovery.find(subject)
    queries = _bare_queries(subject)
    index = digest("phone", PHONE)

    def bare_queries():
        with connection.cursor() as cursor:
            for _, sql, params in queries:
                cursor.execute(sql, params)
                cursor.fetchall()

    def bare_lookup():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {Consumer._meta.db_table} WHERE phone_index = %s", [index])
            cursor.fetchall()

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [discovery.find(subject) for _ in range(5)])
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(25)

    def cold():
        discovery._cache.clear()
        discovery.find(subject)

    # Discovery and the bare queries alternate round by round, so a busy machine slows both alike.
    paired = _alternating({"discovery": lambda: discovery.find(subject), "bare_queries": bare_queries}, rounds=15)
    seconds = {
        "discovery": paired["discovery"],
        "discovery_cold": timed(cold, rounds=5),
        "bare_queries": paired["bare_queries"],
        "bare_lookup": timed(bare_lookup, rounds=7),
        "package": timed(lambda: build_package(discovery.find(subject)), rounds=5),
    }
    figures = {
        "consumers": ROWS,
        "organisations": ORGANISATIONS,
        "items_found": len(found.items),
        "registrations": len(privacy.registrations()),
        "ms": {name: round(value * 1000, 2) for name, value in seconds.items()},
        "discovery_vs_bare_queries": round(seconds["discovery"] / seconds["bare_queries"], 2),
        "discovery_vs_bare_lookup": round(seconds["discovery"] / seconds["bare_lookup"], 1),
        "target_under_1s": seconds["discovery"] < 1.0,
        "target_within_3x_of_bare": seconds["discovery"] <= 3 * seconds["bare_queries"],
        "queries": len(queries),
        "unindexed_lookups": _unindexed_lookups(),
        "full_scans_without_seqscan": _full_scans(queries),
        "consumer_plan": _consumer_plan(queries),
    }
    print(
        table(
            [(name, f"{ms:.2f}") for name, ms in figures["ms"].items()],
            ("measure", "median ms"),
        )
    )
    print(
        f"{figures['items_found']} items over {figures['registrations']} registrations; discovery is "
        f"{figures['discovery_vs_bare_queries']}x the same queries run bare, {figures['discovery_vs_bare_lookup']}x one lookup"
    )
    print("lookups by a column that leads no index:", ", ".join(figures["unindexed_lookups"]) or "none")
    print("tables still read in full with sequential scans ruled out:", figures["full_scans_without_seqscan"] or "none")
    print("consumer query:", figures["consumer_plan"])
    return figures
