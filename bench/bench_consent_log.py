"""Consent-logging endpoint under gunicorn: requests/s against a minimal Django view returning the same JSON.

Both run in one gunicorn (production settings, sync workers, persistent database
connections) on this machine, measured in alternating rounds of the same length
with the same load generator: `wrk` when installed (Debian package), otherwise a
threaded Python keep-alive client. Every consent request is a first visit (new
consent id, a new record). Records take the production path (cookies.buffer):
appended to the worker's spool file before the answer (so a killed worker loses
none), then written in batched INSERTs by each worker's background thread, so
the cost of storing them is inside the measured rate. Target: the endpoint
sustains at least 80% of the baseline.
"""

import base64
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from bench.util import table
from cookies import buffer
from cookies.models import ConsentRecord
from cookies.selectors import banner_version

ROOT = Path(__file__).resolve().parent.parent
HOST = "bench.nextsupport.example"
ROUNDS = 7
SECONDS = 3
CONNECTIONS = 16
WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn's own sizing advice
TARGET_RATIO = 0.80
HEADERS = {
    "Host": HOST,
    "Content-Type": "application/json",
    "Sec-Fetch-Site": "same-origin",
    # As the TLS-terminating proxy in front of production would say.
    "X-Forwarded-Proto": "https",
}


def _database_url() -> str:
    """The bench (test) database, as a URL for the gunicorn processes."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    # A socket directory (the embedded PostgreSQL) arrives as OPTIONS["host"] from a ?host= URL.
    host = s["HOST"] or s.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgresql://{auth}@/{s['NAME']}?host={quote(host)}"
    return f"postgresql://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _buffer_url() -> str:
    """The Redis the consent buffer uses, as production would (REDIS_URL); '' when none answers."""
    import redis

    url = settings.COOKIE_CONSENT_BUFFER_URL or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return ""
    return url


def _server_env(buffer_url: str, spool_dir: str) -> dict:
    key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.server_settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "COOKIE_CONSENT_BUFFER_URL": buffer_url,
        "COOKIE_CONSENT_SPOOL_DIR": spool_dir,
        "CELERY_BROKER_URL": "memory://",
        "FIELD_ENCRYPTION_KEYS": f"bench:{key()}",
        "FIELD_ENCRYPTION_ACTIVE_KEY": "bench",
        "BLIND_INDEX_KEY": key(),
        "AUDIT_CHECKPOINT_KEY": key(),
        "EMAIL_HOST": "localhost",
        # Every bench request comes from one address: the per-network limit still
        # counts each request (its cost is measured), it just never refuses one.
        "COOKIE_CONSENT_LIMIT_PER_HOUR": str(10**9),
        "LOG_LEVEL": "WARNING",
    }


class Gunicorn:
    def __init__(self, buffer_url: str, *, workers: int = WORKERS, spool_dir: str | None = None):
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.spool_dir = spool_dir or tempfile.mkdtemp(prefix="bench-consent-spool-")
        command = [
            sys.executable, "-m", "gunicorn", "nextsupport.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", "sync",
            "--log-level", "warning",
        ]  # fmt: skip
        env = _server_env(buffer_url, self.spool_dir)
        # Our own interpreter and arguments; nothing from outside reaches the command line.
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)  # noqa: S603

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{self.port}/bench/baseline", data=b"{}", headers=HEADERS)
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (our own loopback server)
                    if response.status == 201:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        Path(self.log.name).unlink(missing_ok=True)


def _wrk(port: int, path: str, body: bytes) -> tuple[float, int]:
    lua = f"wrk.method = 'POST'\nwrk.body = [[{body.decode()}]]\n"
    lua += "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in HEADERS.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = subprocess.run(  # noqa: S603 (fixed arguments, loopback target)
            [shutil.which("wrk"), "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", script.name, f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, check=True, timeout=SECONDS + 30,
        ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if "Non-2xx" in out or "Socket errors" in out:
        print(out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(errors.group(1)) if errors else 0
    failed += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return rate, failed


def _python_client(port: int, path: str, body: bytes) -> tuple[float, int]:
    """Fallback load generator: CONNECTIONS threads, each a keep-alive loop, for SECONDS."""
    counts, failures = [0] * CONNECTIONS, [0] * CONNECTIONS
    stop_at = time.monotonic() + SECONDS

    def worker(index: int) -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            try:
                conn.request("POST", path, body=body, headers=HEADERS)
                response = conn.getresponse()
                response.read()
                if response.status == 201:
                    counts[index] += 1
                else:
                    failures[index] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except OSError:
                failures[index] += 1
                conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


def run() -> dict:
    generator = "wrk" if shutil.which("wrk") else "python-threads"
    load = _wrk if generator == "wrk" else _python_client
    choice = {
        "consent_id": None,
        "categories": ["analytics"],
        "policy_version": 1,
        "banner_version": banner_version(),
        "gpc": False,
    }
    targets = {
        "baseline": ("/bench/baseline", b"{}"),
        "consent_log": ("/cookies/consent", json.dumps(choice).encode()),
    }
    buffer_url = _buffer_url()
    spool_dir = tempfile.mkdtemp(prefix="bench-consent-spool-")
    try:
        with override_settings(COOKIE_CONSENT_BUFFER_URL=buffer_url, COOKIE_CONSENT_SPOOL_DIR=spool_dir):
            return _measure(load, generator, targets, buffer_url, spool_dir)
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)


def _measure(load, generator: str, targets: dict, buffer_url: str, spool_dir: str) -> dict:
    server = Gunicorn(buffer_url, spool_dir=spool_dir)
    samples = {name: [] for name in targets}
    try:
        server.wait_ready()
        for name, (path, body) in targets.items():  # warm-up: imports, connections, caches
            _, failed = _python_client_once(server.port, path, body)
            if failed:
                raise RuntimeError(f"{name} ({path}) does not answer 201 under the bench settings")
        buffer.flush()
        rows_before = ConsentRecord.objects.count()
        for round_number in range(ROUNDS):
            # A-B, B-A, ...: a machine getting busier or quieter weighs on both sides alike.
            order = list(targets.items()) if round_number % 2 == 0 else list(targets.items())[::-1]
            for name, (path, body) in order:
                rate, failed = load(server.port, path, body)
                if failed:
                    raise RuntimeError(f"{failed} failed requests to {path} during the bench")
                samples[name].append(rate)
    finally:
        server.stop()
    # What the endpoint queued and did not flush inline goes in now, timed: the
    # batch writer must outpace the endpoint or the buffer would grow without end.
    waiting = buffer.waiting()
    started = time.perf_counter()
    buffer.flush(max_batches=10_000)
    flush_seconds = time.perf_counter() - started
    rows_written = ConsentRecord.objects.count() - rows_before
    baseline, consent = (statistics.median(samples[n]) for n in ("baseline", "consent_log"))
    # Each round's two runs sat side by side in time: the median of their ratios is the figure.
    ratio = statistics.median(c / b for b, c in zip(samples["baseline"], samples["consent_log"], strict=True))
    flush_rate = waiting / flush_seconds if waiting else None
    mode = "spooled, batched inserts" if buffer_url else "direct INSERT per request (no Redis answered)"
    print(f"load generator: {generator}; gunicorn: {WORKERS} sync workers; {CONNECTIONS} connections")
    print(f"{ROUNDS} alternating rounds of {SECONDS}s each; consent log: {mode}")
    rows = [("minimal view (same JSON)", round(baseline)), ("consent-log endpoint", round(consent))]
    print(table(rows, ("median requests/s", "value")))
    print(f"median ratio of each round's pair: {ratio:.2f}")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"target ratio {TARGET_RATIO:.2f}: {verdict}; consent records written: {rows_written}")
    if flush_rate:
        print(f"final buffer flush: {waiting} records in {flush_seconds:.2f}s ({flush_rate:.0f} records/s)")
    return {
        "load_generator": generator,
        "gunicorn_workers": WORKERS,
        "connections": CONNECTIONS,
        "seconds_per_round": SECONDS,
        "rounds": ROUNDS,
        "baseline_requests_per_s": round(baseline),
        "consent_log_requests_per_s": round(consent),
        "consent_to_baseline_ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
        "consent_records_written": rows_written,
        "buffered": bool(buffer_url),
        "flush_records_per_s": round(flush_rate) if flush_rate else None,
        "samples": {name: [round(r) for r in rates] for name, rates in samples.items()},
    }


def _python_client_once(port: int, path: str, body: bytes) -> tuple[int, int]:
    """A few sequential requests: proves the route answers 201 before the timed rounds."""
    ok = failed = 0
    for _ in range(20):
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, body=body, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        conn.close()
        ok, failed = (ok + 1, failed) if response.status == 201 else (ok, failed + 1)
    return ok, failed
