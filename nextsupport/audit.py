"""Writing and verifying the audit trail (P15, P26).

    audit.record("consumers.exported", request=request, target=contact_list,
                 reason="client export", details={"rows": 1200})

Each event's hash is SHA-256 over the previous event's hash and this event's
canonical JSON, so changing, removing or reordering any row breaks every link
after it. Writers take a transaction-level advisory lock so the chain stays a
single line under concurrency; record events near the end of long
transactions, since the lock is held until commit.
"""

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditCheckpoint, AuditEvent
from .net import address_digest, client_ip, network_of

GENESIS = "0" * 64
_LOCK_ID = 0x4E53_4155  # "NSAU": any constant, shared by every writer

# Bulk reads of personal data are events too (P13, P15).
PERSONAL_DATA_EXPORTED = "personal_data.exported"
PERSONAL_DATA_REVEALED = "personal_data.revealed"
RECORDING_ACCESSED = "recording.accessed"
ENCRYPTION_KEYS_ROTATED = "platform.encryption_keys_rotated"


def record(
    action: str,
    *,
    request=None,
    actor=None,
    actor_label: str = "",
    target=None,
    organisation_id: int | None = None,
    reason: str = "",
    details: dict | None = None,
    ip_address: str = "",
) -> AuditEvent:
    """Append one event. `request` supplies the actor and address when given.

    The address itself is never kept: only its network and a keyed hash of it.
    """
    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            if isinstance(user, get_user_model()):
                actor = user
            else:
                # A non-person principal (an API key) names itself.
                actor_label = actor_label or getattr(user, "audit_label", "")
        ip_address = ip_address or client_ip(request)
    if target is not None and organisation_id is None:
        organisation_id = getattr(target, "organisation_id", None)
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label=actor_label or (f"user:{actor.pk}" if actor else "anonymous"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        organisation_id=organisation_id,
        ip_network=network_of(ip_address) if ip_address else "",
        ip_digest=address_digest(ip_address) if ip_address else "",
        reason=reason,
        details=json.loads(json.dumps(details or {}, default=str)),
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        # Every event purged: the chain goes on from the checkpoint, never from #1 again.
        last = last or AuditCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
        event.sequence, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


def canonical(event: AuditEvent) -> bytes:
    payload = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "organisation_id": event.organisation_id,
        "ip_address": event.ip_address,
        "reason": event.reason,
        "details": event.details,
    }
    # Added only when set, so an event written before they existed keeps the exact
    # canonical form its hash was computed over, and the chain still verifies.
    for name in ("ip_network", "ip_digest"):
        if value := getattr(event, name):
            payload[name] = value
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event.prev_hash.encode() + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Walk the chain from the first event; report the first link that does not hold.

    Once old events are purged the chain starts at the signed checkpoint of the
    last one removed; without a valid one the first event kept must be #1.
    """
    start = _chain_start()
    if isinstance(start, ChainReport):
        return start
    expected_prev, expected_sequence = start
    checked = 0
    for event in AuditEvent.objects.filter(sequence__gte=expected_sequence).order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return ChainReport(
                checked, event.sequence, f"event #{expected_sequence} is missing: the next event on record is #{event.sequence}."
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                event.sequence,
                f"event #{event.sequence} does not follow the event before it (its previous-hash differs).",
            )
        if event_hash(event) != event.hash:
            return ChainReport(
                checked, event.sequence, f"event #{event.sequence} was altered: its contents no longer match its hash."
            )
        expected_prev, expected_sequence, checked = event.hash, event.sequence + 1, checked + 1
    return ChainReport(checked)


# --- Aging: the oldest events go after six years (P26, docs/retention.md) ------------------

_ALLOW_DELETE = "nextsupport.allow_audit_delete"


def checkpoint_signature(sequence: int, hash: str) -> str:
    key = settings.AUDIT_CHECKPOINT_KEY
    if not key:
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_KEY is not set: audit checkpoints cannot be signed or checked.")
    return hmac.new(key.encode(), f"{sequence}:{hash}".encode(), hashlib.sha256).hexdigest()


def _chain_start() -> tuple[str, int] | ChainReport:
    """(previous hash, first sequence) the chain must start from, or the report of a bad start."""
    first = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
    if first is None or first == 1:
        return GENESIS, 1
    checkpoint = AuditCheckpoint.objects.filter(sequence=first - 1).first()
    if checkpoint is None:
        return ChainReport(0, first, f"events before #{first} are missing and no checkpoint of their purge exists.")
    if not hmac.compare_digest(checkpoint.signature, checkpoint_signature(checkpoint.sequence, checkpoint.hash)):
        return ChainReport(0, first, f"the checkpoint before event #{first} is not signed with AUDIT_CHECKPOINT_KEY.")
    return checkpoint.hash, first


def purge_expired(cutoff: datetime.datetime, batch_size: int, *, held_organisations=()) -> int:
    """Remove the oldest events that occurred before `cutoff`, one batch, oldest first; returns how many.

    Only a run from the start of the chain is ever removed (never a gap), and it
    stops before the first event of an organisation under legal hold. The
    checkpoint of the last removed event is written in the same transaction, so
    the chain verifies at every moment, even if the process dies between batches.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Writers take this lock too: no event is appended while the start moves.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        oldest = AuditEvent.objects.order_by("sequence")
        stop = oldest.filter(occurred_at__gte=cutoff)
        if held_organisations:
            stop = stop | oldest.filter(organisation_id__in=held_organisations)
        limit = stop.values_list("sequence", flat=True).first()
        batch = oldest if limit is None else oldest.filter(sequence__lt=limit)
        window = batch.values_list("sequence", "hash")
        last = next(iter(window[batch_size - 1 : batch_size]), None) or window.order_by("-sequence").first()
        if last is None:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [_ALLOW_DELETE])
            cursor.execute("DELETE FROM nextsupport_auditevent WHERE sequence <= %s", [last[0]])
            removed = cursor.rowcount
            cursor.execute("SELECT set_config(%s, 'off', true)", [_ALLOW_DELETE])
        AuditCheckpoint.objects.create(sequence=last[0], hash=last[1], removed=removed, signature=checkpoint_signature(*last))
    return removed
