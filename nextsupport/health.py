"""Health of the services the platform depends on, for /healthz and for people."""

import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection

from .celery import app as celery_app


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    milliseconds: float
    error: str = ""

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "ms": round(self.milliseconds, 1)}
        if self.error:
            data["error"] = self.error
        return data


def _timed(name, probe) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure means "down"; the class name says which kind
        return Check(name, False, (time.perf_counter() - started) * 1000, type(exc).__name__)
    return Check(name, True, (time.perf_counter() - started) * 1000)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
        # Opening a channel proves the broker answers, not only that a socket opened.
        conn.default_channel  # noqa: B018 (the property opens the channel)


def _storage():
    # A write, a read and a delete: "reachable" is not enough for uploads.
    storage = storages["default"]
    name = storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with storage.open(name) as handle:
            handle.read()
    finally:
        storage.delete(name)


def _blind_index_keys():
    # A process whose key chain is not the database's computes digests that match
    # nothing: it would call suppressed numbers. It must not serve.
    from .blind_index_rotation import chain_state

    state = chain_state()
    if not state.consistent:
        raise BlindIndexKeysOutOfStep(f"database {state.applied}, settings {state.configured}")


class BlindIndexKeysOutOfStep(Exception):
    """BLIND_INDEX_ROTATION_KEYS differs from the keys the database's digests are under."""


PROBES = {"database": _database, "broker": _broker, "storage": _storage, "blind_index_keys": _blind_index_keys}


class _RecentResult:
    """The last probe's result, reused for HEALTHZ_CACHE_SECONDS.

    /healthz is public and each probe writes to storage and opens a broker
    connection, so a flood of hits must cost at most one probe per interval per
    process. Requests arriving while a probe runs wait for it and share it.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.checks: list[Check] = []
        self.taken_at = float("-inf")

    def get(self, max_age: float) -> list[Check]:
        with self.lock:
            if max_age <= 0 or time.monotonic() - self.taken_at >= max_age:
                self.checks = [_timed(name, probe) for name, probe in PROBES.items()]
                self.taken_at = time.monotonic()
            return self.checks


_recent = _RecentResult()


def run_checks() -> list[Check]:
    return _recent.get(settings.HEALTHZ_CACHE_SECONDS)
