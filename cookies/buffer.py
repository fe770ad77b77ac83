"""Consent records reach PostgreSQL in batches, through two buffers.

The consent endpoint is hit on every first visit. A durable INSERT per request
(a commit, so a WAL flush, and a PostgreSQL backend busy for each visitor) costs
several times the rest of the request, and even one Redis round trip costs a
third of it. So a record goes:

1. into a list in the web process (no I/O in the request), which a background
   thread moves to Redis with one RPUSH every 0.2 s (_WriteBehind);
2. from the Redis list into the table, a batch per INSERT, when `flush()` runs:
   every few seconds from Celery beat, at once when the Redis list grows long,
   and before staff search the log.

With no buffer configured (COOKIE_CONSENT_BUFFER_URL empty) the endpoint
inserts directly; if Redis is unreachable, records wait in the process and are
written directly when flushed or when the process exits. Each record carries
its own primary key (a UUID made at request time) and batches are inserted with
ON CONFLICT DO NOTHING after being parked in a "processing" list, so a flush
that dies half-way is simply redone: every record lands exactly once.
"""

import atexit
import datetime
import json
import logging
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from functools import cache

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver

from .models import ConsentRecord

logger = logging.getLogger(__name__)

BATCH = 1000
# The endpoint flushes inline once this many records wait (Celery beat may be down).
FLUSH_AT = 5 * BATCH
_LOCK_SECONDS = 60

# Take up to ARGV[1] records from the head of the queue and park them in the
# processing list, atomically: a crash after this leaves them parked, not lost.
_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('RPUSH', KEYS[2], unpack(items))
  redis.call('LTRIM', KEYS[1], #items, -1)
end
return #items
"""

# Remove exactly the records written (each is unique: it carries its own UUID).
# Not "the first N": a flush that outlived its lock may share the processing
# list with the next flusher, whose parked records must stay until written.
_FORGET = """
for _, item in ipairs(ARGV) do
  redis.call('LREM', KEYS[1], 1, item)
end
return #ARGV
"""

# The flush lock is extended and released only by its holder (the token it was
# taken with): once it has expired, another flusher may hold it.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)


@receiver(setting_changed)
def _forget_client(*, setting, **kwargs):
    if setting == "COOKIE_CONSENT_BUFFER_URL":
        _client.cache_clear()


def _connection() -> redis.Redis | None:
    url = settings.COOKIE_CONSENT_BUFFER_URL
    return _client(url) if url else None


def _keys() -> tuple[str, str, str]:
    # Per database: a bench or test database never drains another's records.
    base = f"cookies:consent-buffer:{settings.DATABASES['default']['NAME']}"
    return base, f"{base}:processing", f"{base}:flushing"


@dataclass(frozen=True, slots=True)
class LoggedChoice:
    """A consent record on its way to the table (a model instance costs more than the rest of the request)."""

    id: uuid.UUID
    consent_id: uuid.UUID
    categories: list[str]
    policy_version: int
    banner_version: str
    gpc: bool
    ip_hash: str
    created_at: datetime.datetime

    def as_record(self) -> ConsentRecord:
        return ConsentRecord(**asdict(self))


def _encode(choice: LoggedChoice) -> str:
    return json.dumps(
        [
            choice.id.hex,
            choice.consent_id.hex,
            choice.categories,
            choice.policy_version,
            choice.banner_version,
            choice.gpc,
            choice.ip_hash,
            choice.created_at.timestamp(),
        ],
        separators=(",", ":"),
    )


# One statement per batch, columns as arrays, straight from the queued JSON: the
# ORM's bulk_create spends more building model instances than PostgreSQL spends
# storing the rows. A record already written (a flush redone after a crash) is
# skipped by its primary key.
_INSERT_BATCH = (
    f"INSERT INTO {ConsentRecord._meta.db_table} "  # noqa: S608 (our own table name, no outside input)
    "(id, consent_id, categories, policy_version, banner_version, gpc, ip_hash, created_at) "
    "SELECT r.id, r.consent_id, r.categories, r.policy_version, r.banner_version, r.gpc, r.ip_hash, to_timestamp(r.created) "
    "FROM unnest(%s::uuid[], %s::uuid[], %s::jsonb[], %s::int[], %s::text[], %s::bool[], %s::text[], %s::float8[]) "
    "AS r(id, consent_id, categories, policy_version, banner_version, gpc, ip_hash, created) "
    "ON CONFLICT (id) DO NOTHING"
)


def write(encoded: list[bytes | str]) -> None:
    """Insert queued records (as _encode wrote them) in one statement."""
    rows = [json.loads(item) for item in encoded]
    columns = [list(column) for column in zip(*rows, strict=True)]
    columns[2] = [json.dumps(categories) for categories in columns[2]]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_BATCH, columns)


def _rpush(items: list[str]) -> None:
    """Hand encoded records to Redis; writes a batch to the table when the queue runs long."""
    client = _connection()
    queue, _, _ = _keys()
    waiting = 0
    for start in range(0, len(items), BATCH):
        waiting = client.rpush(queue, *items[start : start + BATCH])
    if waiting >= FLUSH_AT:
        # Redis to the table only: this may run inside a drain of the write-behind
        # stage (at exit, or from flush()), which must not wait for itself.
        _flush_queue(client, max_batches=2)  # enough to keep up, little enough to stay quick


class _WriteBehind:
    """The first stage, per process: choices wait here at most INTERVAL seconds, then one
    RPUSH takes all of them to Redis. The request itself does no I/O for its record.

    A background thread drains it (started on first use, again after a fork);
    a graceful exit drains it too. Only a hard kill of the process loses what
    waits here, at most INTERVAL seconds' worth. If Redis is down, records stay
    here (up to LIMIT) and are retried; past LIMIT, requests insert directly.
    """

    INTERVAL = 0.2
    WAKE_AT = 200
    LIMIT = 50_000

    def __init__(self):
        self.items: list[str] = []
        self.lock = threading.Lock()
        # Held while a batch is between this list and Redis, so it is never half-moved.
        self.moving = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, encoded: str) -> bool:
        with self.lock:
            if len(self.items) >= self.LIMIT:
                return False
            self.items.append(encoded)
            count = len(self.items)
        if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
            self._start()
        if count >= self.WAKE_AT:
            self.wake.set()
        return True

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid() and self.thread is not None and self.thread.is_alive():
                return
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._run, name="consent-write-behind", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait(self.INTERVAL)
            self.wake.clear()
            try:
                self.drain()
            except Exception:
                logger.exception("Consent records could not be moved to Redis; retrying.")
            finally:
                connection.close()  # this thread's own connection, if a long-queue flush opened one

    def drain(self) -> int:
        """Move everything waiting here to Redis now; on failure it stays here for the next try."""
        with self.moving:
            with self.lock:
                items, self.items = self.items, []
            if not items:
                return 0
            try:
                _rpush(items)
            except Exception:
                with self.lock:
                    self.items[:0] = items
                raise
            return len(items)

    def discard(self) -> None:
        """Forget what waits here (tests start from nothing)."""
        with self.moving, self.lock:
            self.items.clear()


_write_behind = _WriteBehind()
atexit.register(lambda: _drain_or_write(_write_behind))


def _drain_or_write(stage: _WriteBehind) -> None:
    """At exit, or when staff need everything now: to Redis, or straight to the table if Redis fails."""
    try:
        stage.drain()
    except Exception:
        with stage.moving, stage.lock:
            items, stage.items = stage.items, []
        if items:
            write(items)
            logger.warning("Consent buffer unavailable; %s records written directly.", len(items))


def push(choice: LoggedChoice) -> bool:
    """Queue `choice`; False when there is no buffer, or it cannot take more (insert it directly then)."""
    if not settings.COOKIE_CONSENT_BUFFER_URL:
        return False
    encoded = _encode(choice)
    if settings.COOKIE_CONSENT_WRITE_BEHIND:
        return _write_behind.add(encoded)
    try:
        _rpush([encoded])
    except redis.RedisError:
        logger.warning("Consent buffer unavailable; recording consent directly in the database.", exc_info=True)
        return False
    return True


def flush(*, max_batches: int = 100) -> int:
    """Move waiting records into PostgreSQL; returns how many were written. One flusher at a time."""
    client = _connection()
    if client is None:
        return 0
    if threading.current_thread() is not _write_behind.thread:
        _drain_or_write(_write_behind)  # this process's own waiting records first
    return _flush_queue(client, max_batches=max_batches)


def _flush_queue(client: redis.Redis, *, max_batches: int) -> int:
    """Move records from the Redis queue into the table, one flusher at a time."""
    queue, processing, lock = _keys()
    token = uuid.uuid4().hex
    try:
        if not client.set(lock, token, nx=True, ex=_LOCK_SECONDS):
            return 0  # another flusher is at it
    except redis.RedisError:
        logger.warning("Consent buffer unavailable; nothing flushed.", exc_info=True)
        return 0
    written = 0
    try:
        written += _write_parked(client, processing)  # left by a flusher that died
        for _ in range(max_batches):
            # A flush that outlived its lock (a slow database) stops: the queue is another flusher's now.
            if not client.eval(_EXTEND, 1, lock, token, _LOCK_SECONDS):
                break
            if not client.eval(_TAKE, 2, queue, processing, BATCH):
                break
            written += _write_parked(client, processing)
    finally:
        client.eval(_RELEASE, 1, lock, token)
    return written


def _write_parked(client: redis.Redis, processing: str) -> int:
    raw = client.lrange(processing, 0, -1)
    if not raw:
        return 0
    write(raw)
    client.eval(_FORGET, 1, processing, *raw)
    return len(raw)


def waiting() -> int:
    """Records on their way: in this process, and in Redis."""
    client = _connection()
    if client is None:
        return 0
    queue, processing, _ = _keys()
    return len(_write_behind.items) + client.llen(queue) + client.llen(processing)
