"""Consent records reach PostgreSQL in batches, through two buffers.

The consent endpoint is hit on every first visit. A durable INSERT per request
(a commit, so a WAL flush, and a PostgreSQL backend busy for each visitor) costs
several times the rest of the request, and even one Redis round trip costs a
third of it. Yet a choice that was answered 201 is proof (P14, P18) and must
survive the web process being killed the moment after. So a record goes:

1. into a spool file of the web process, with one append (os.write) before the
   answer (_Spool): a single write(2), no fsync. The bytes are in the kernel's
   page cache when the request returns, so they outlive the process however it
   dies (SIGKILL included; not a power cut of the machine);
2. from the spool into the table, a batch per INSERT, by a background thread of
   the process every 0.2 s. A file whose process died (its flock is gone) is
   written by the next process, or `flush()` (Celery beat, and before staff
   search the log), that finds it.

With COOKIE_CONSENT_WRITE_BEHIND off, each request instead RPUSHes its record to
a Redis list, which `flush()` writes to the table in batches. With no buffer
configured (COOKIE_CONSENT_BUFFER_URL empty), or when the spool cannot be
written, the request inserts directly. If the database is unreachable, records
wait in their spool files. Each record carries its own primary key (a UUID made
at request time) and batches are inserted with ON CONFLICT DO NOTHING, so a
spool written twice (a crash between the INSERT and deleting the file) or a
Redis flush that dies half-way is simply redone: every record lands exactly once.
"""

import atexit
import datetime
import fcntl
import logging
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

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
    """The record as one line of JSON, written out by hand (json.dumps costs more than the rest of
    the journey): every part is a hex id, a number, a boolean or a known category name."""
    categories = ",".join(f'"{category}"' for category in choice.categories)
    gpc = "true" if choice.gpc else "false"
    return (
        f'["{choice.id.hex}","{choice.consent_id.hex}",[{categories}],{int(choice.policy_version)},'
        f'"{choice.banner_version}",{gpc},"{choice.ip_hash}",{choice.created_at.timestamp()!r}]'
    )


# One statement per batch, straight from the queued JSON, which PostgreSQL takes
# apart itself: the ORM's bulk_create spends more building model instances than
# PostgreSQL spends storing the rows, and decoding each record in Python costs more
# than the rest of its journey. A record already written (a spool shipped twice, a
# flush redone after a crash) is skipped by its primary key.
_INSERT_BATCH = (
    f"INSERT INTO {ConsentRecord._meta.db_table} "  # noqa: S608 (our own table name, no outside input)
    "(id, consent_id, categories, policy_version, banner_version, gpc, ip_hash, created_at) "
    "SELECT (r->>0)::uuid, (r->>1)::uuid, r->2, (r->>3)::int, r->>4, (r->>5)::bool, r->>6, to_timestamp((r->>7)::float8) "
    "FROM unnest(%s::jsonb[]) AS r "
    "ON CONFLICT (id) DO NOTHING"
)


def write(encoded: list[bytes | str]) -> None:
    """Insert queued records (as _encode wrote them) in one statement."""
    rows = [item.decode() if isinstance(item, bytes) else item for item in encoded]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_BATCH, [rows])


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


class _Spool:
    """Per process: each choice is appended to this process's spool file before it is
    answered, and a background thread writes the file to the table every INTERVAL s.

    Each process writes its own file (<pid>-<random>.spool) and holds an exclusive
    flock on it; the kernel drops the lock when the process dies, however it dies.
    So a file nobody holds a lock on belongs to a dead process: the first process
    or flush to find it writes it (`_adopt`). A file is written to the table by
    first switching the process to a fresh file, then reading, inserting and
    deleting the old one: a crash between inserting and deleting inserts it twice,
    which the table's primary key absorbs.
    """

    INTERVAL = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        # Held while a file is between the disk and the table, so it is never written by two threads.
        self.moving = threading.Lock()
        self.fd: int | None = None
        self.path: Path | None = None
        self.written = 0
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.pid = 0

    def folder(self) -> Path:
        return Path(settings.COOKIE_CONSENT_SPOOL_DIR) / settings.DATABASES["default"]["NAME"]

    def add(self, encoded: str) -> bool:
        """Append one record durably (False: it could not be written; insert it directly then)."""
        line = (encoded + "\n").encode()
        try:
            with self.lock:
                if self.pid != os.getpid() or self.fd is None:
                    self._open()
                written = os.write(self.fd, line)
                self.written += written
        except OSError:
            logger.warning("Consent spool unavailable; recording consent directly in the database.", exc_info=True)
            return False
        if written != len(line):
            # A full disk. Nothing more goes after the partial line (the reader skips it): the
            # file is let go, to be written by whoever adopts it, and this record goes in directly.
            with self.lock:
                if self.fd is not None:
                    os.close(self.fd)
                self.fd, self.path = None, None
            return False
        if self.thread is None or not self.thread.is_alive():
            self._start()
        return True

    def _open(self) -> None:
        """A file of this process's own (also after a fork: the parent's file and lock stay the parent's)."""
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.spool"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.fd, self.path, self.written, self.pid = fd, path, 0, os.getpid()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.stopping = threading.Event()
            self.thread = threading.Thread(target=self._run, args=(self.stopping,), name="consent-spool", daemon=True)
            self.thread.start()

    def _run(self, stopping: threading.Event) -> None:
        try:
            while not stopping.wait(self.INTERVAL):
                # This thread's own connection, kept as a request would keep one (CONN_MAX_AGE, health checks).
                connection.close_if_unusable_or_obsolete()
                try:
                    self.drain()
                except Exception:
                    logger.exception("Consent records could not be written to the table; they wait in the spool.")
                    connection.close()  # the next try opens a fresh one
        finally:
            connection.close()

    def drain(self, ship=None) -> int:
        """Write this process's spool and any dead process's to the table now (or through `ship`);
        on failure the files stay for the next try."""
        ship = ship or write
        with self.moving:
            moved = 0
            with self.lock:
                full = self.fd is not None and self.pid == os.getpid() and self.written
                old_fd, old_path = self.fd, self.path
                if full:
                    self.fd, self.path = None, None  # the next record opens a fresh file
            if full:
                try:
                    moved += _ship_file(old_path, ship)
                finally:
                    os.close(old_fd)  # unlocked: if shipping failed, the file waits to be adopted
            return moved + self._adopt(ship)

    def _adopt(self, ship) -> int:
        moved = 0
        folder = self.folder()
        for path in sorted(folder.glob("*.spool")) if folder.is_dir() else []:
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # shipped by someone else meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # its process is alive and ships it itself
            try:
                moved += _ship_file(path, ship)
            finally:
                os.close(fd)
        return moved

    def discard(self) -> None:
        """Forget every spooled record and stop the thread (tests start from nothing)."""
        self.stopping.set()
        with self.moving, self.lock:
            folder = self.folder()
            for path in folder.glob("*.spool") if folder.is_dir() else []:
                path.unlink(missing_ok=True)
            if self.fd is not None and self.pid == os.getpid():
                os.close(self.fd)
            self.fd, self.path, self.written = None, None, 0

    def waiting(self) -> int:
        folder = self.folder()
        return sum(len(_read_lines(path)) for path in folder.glob("*.spool")) if folder.is_dir() else 0


def _read_lines(path: Path) -> list[str]:
    """The complete records of a spool file. Only its end can hold a partial one (a process
    killed mid-write, or a full disk, after which `add` never writes to that file again)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    *lines, rest = data.split(b"\n")
    if rest:
        logger.warning("The incomplete last line of the consent spool %s was skipped.", path.name)
    return [line.decode() for line in lines if line]


def _ship_file(path: Path, ship) -> int:
    """Push a spool file's records, then delete it (only once they are pushed)."""
    lines = _read_lines(path)
    if lines:
        ship(lines)
    path.unlink(missing_ok=True)
    return len(lines)


_spool = _Spool()
atexit.register(lambda: _drain(_spool))


def _drain(stage: _Spool) -> int:
    """At exit, or when staff need everything now; if the table cannot be reached the spool waits for the next process."""
    try:
        return stage.drain()
    except Exception:
        logger.warning("Consent spool could not be written to the table; it waits for the next try.", exc_info=True)
        return 0


def push(choice: LoggedChoice) -> bool:
    """Queue `choice`; False when there is no buffer, or it cannot take more (insert it directly then)."""
    if not settings.COOKIE_CONSENT_BUFFER_URL:
        return False
    if settings.COOKIE_CONSENT_WRITE_BEHIND:
        return _spool.add(_encode(choice))
    encoded = _encode(choice)
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
    spooled = _drain(_spool) if threading.current_thread() is not _spool.thread else 0
    return spooled + _flush_queue(client, max_batches=max_batches)


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
    """Records on their way: in spool files, and in Redis."""
    client = _connection()
    if client is None:
        return 0
    queue, processing, _ = _keys()
    return _spool.waiting() + client.llen(queue) + client.llen(processing)
