"""`make bench`: run every bench/bench_*.py against a fresh test database.

Each module's `run()` returns its figures; they are printed and written to
bench/results/<name>.json. Figures are medians of several rounds measured side
by side in one run, so a noisy machine shifts both sides alike; read the ratios.
"""

import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextsupport.settings.test")


def main(selected: list[str]) -> int:
    import django
    from django.test.utils import setup_databases, teardown_databases

    django.setup()
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            print(f"\n## {name}: {module.__doc__.strip().splitlines()[0]}")
            started = time.perf_counter()
            figures = module.run()
            result = {
                "benchmark": name,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(time.perf_counter() - started, 1),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "figures": figures,
            }
            (HERE / "results" / f"{name.removeprefix('bench_')}.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        teardown_databases(old_config, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
