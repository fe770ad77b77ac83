"""Which promises of docs/obligations.md the suite proves.

Tests carry @pytest.mark.obligation("P31", ...). An ID that the document does
not define is a collection error (a typo must not look like proof). After a run,
the outcome of every marked test is written to .data/obligations.json for
`make obligations` (scripts/obligations.py) to print.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "obligations.md"
REPORT = ROOT / ".data" / "obligations.json"


def defined_ids() -> dict[str, str]:
    """ID -> one-line promise, in document order."""
    found = {}
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        match = re.match(r"- (P\d\d) (.*)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def pytest_collection_modifyitems(session, config, items):
    known = defined_ids()
    for item in items:
        for marker in item.iter_markers("obligation"):
            unknown = [i for i in marker.args if i not in known]
            if unknown or not marker.args:
                raise pytest.UsageError(f"{item.nodeid}: obligation marker names unknown IDs {unknown or '(none)'}")


_results: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    ids = getattr(report, "obligation_ids", None)
    if not ids:
        return
    entry = _results.setdefault(report.nodeid, {"ids": ids, "outcome": "passed"})
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and report.when in ("setup", "call"):
        entry["outcome"] = "skipped"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.obligation_ids = sorted({i for m in item.iter_markers("obligation") for i in m.args})


def pytest_sessionfinish(session, exitstatus):
    if _results and not hasattr(session.config, "workerinput"):
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(_results, indent=1, sort_keys=True))
