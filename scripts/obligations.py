"""Print, for every promise in docs/obligations.md, the tests that prove it and how they fared.

Reads .data/obligations.json, written by the last test run (`make obligations` runs the suite first).
Exit status 1 when a marked test failed.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.obligations import REPORT, defined_ids


def main() -> int:
    if not REPORT.exists():
        print("No results yet: run `make obligations` (it runs the test suite first).")
        return 1
    results = json.loads(REPORT.read_text())
    by_id: dict[str, list[tuple[str, str]]] = {}
    for nodeid, entry in results.items():
        for obligation in entry["ids"]:
            by_id.setdefault(obligation, []).append((nodeid, entry["outcome"]))
    proved = failed = 0
    for obligation, promise in defined_ids().items():
        tests = sorted(by_id.get(obligation, []))
        outcomes = {outcome for _, outcome in tests}
        # A skipped test (e.g. one that needs Redis) neither proves nor breaks a promise.
        if "failed" in outcomes:
            status = "FAILING"
        elif "passed" in outcomes:
            status = "PROVED"
        else:
            status = "only skipped tests" if tests else "no test"
        proved += status == "PROVED"
        failed += status == "FAILING"
        print(f"{obligation} [{status}] {promise[:90]}")
        for nodeid, outcome in tests:
            print(f"      {outcome:<7} {nodeid}")
    total = len(defined_ids())
    print(
        f"\n{proved} of {total} obligations proved by passing tests; {failed} with failing tests; {total - proved - failed} without a test."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
