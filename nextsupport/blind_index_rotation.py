"""Rotating the blind-index key without losing a single suppression or do-not-call entry.

Do-not-call entries, suppressions, the consent ledger's numbers and the TPS/CTPS
register are kept only as digests: there is no plaintext to compute a new digest
from. So a rotation does not replace the key, it adds one to the chain
(nextsupport.crypto.BlindIndexChain) and wraps every stored digest once more,
HMAC(new key, old digest): exactly the digest the longer chain gives the number.

    rotate()   in ONE transaction: every blind-index column of every model is
               re-keyed under each configured key the database has not had yet,
               and the key is recorded (BlindIndexRotation). Either all of it
               happens or none: a digest is never wrapped twice or left behind.

Processes whose chain differs from the database's would compute digests that
match nothing (a call to a suppressed number), so writers must be stopped while
it runs, and `/healthz` reports any process whose chain is not the database's.
The procedure is in the README ("Rotating the blind-index key").
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction

from . import audit, crypto
from .fields import BlindIndexField
from .models import BlindIndexRotation

BLIND_INDEX_KEY_ROTATED = "platform.blind_index_key_rotated"
_LOCK_ID = 0x4E53_4249  # "NSBI": one rotation at a time
_BATCH = 5000


class ChainMismatch(Exception):
    """The configured chain does not extend the database's: rotating would corrupt the digests."""


@dataclass(frozen=True)
class ChainState:
    applied: list[str]
    configured: list[str]

    @property
    def pending(self) -> list[str]:
        return self.configured[len(self.applied) :] if self.configured[: len(self.applied)] == self.applied else []

    @property
    def consistent(self) -> bool:
        return self.applied == self.configured


def chain_state() -> ChainState:
    return ChainState(list(BlindIndexRotation.objects.values_list("key_id", flat=True)), crypto.blind_index_chain().key_ids)


def indexed_columns() -> list[tuple[type, BlindIndexField]]:
    """Every blind-index column of every model (each table once)."""
    return [
        (model, f)
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        for f in model._meta.concrete_fields
        if isinstance(f, BlindIndexField) and f.model is model
    ]


def rotate() -> dict[str, int]:
    """Re-key every stored digest under the configured keys the database lacks; digests re-keyed per model."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        state = chain_state()
        if state.configured[: len(state.applied)] != state.applied:
            raise ChainMismatch(
                f"The database's blind indexes are under the keys {state.applied or ['BLIND_INDEX_KEY']}, and "
                f"BLIND_INDEX_ROTATION_KEYS names {state.configured}: keys are only ever added, at the end."
            )
        keys = crypto.blind_index_chain().rotations[len(state.applied) :]
        if not keys:
            return {}
        # The consent ledger's trigger lets its numbers change only under this transaction-local setting.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('nextsupport.allow_blind_index_rekey', 'on', true)")
        counts: dict[str, int] = {}
        for model, field in indexed_columns():
            label = f"{model._meta.label}.{field.name}"
            counts[label] = _rekey_column(model, field, keys)
        for key_id, _ in keys:
            BlindIndexRotation.objects.create(key_id=key_id, rows=counts)
        audit.record(
            BLIND_INDEX_KEY_ROTATED,
            actor_label="manage.py rotate_blind_index_key",
            details={"keys": [key_id for key_id, _ in keys], "rekeyed": counts},
        )
    return counts


def _rekey_column(model, field: BlindIndexField, keys) -> int:
    """Wrap every distinct digest of one column; the rows updated."""
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(field.column)
    updated = 0
    # A server-side cursor reads the column as it was when the loop began, so a digest
    # re-keyed in an earlier batch is never read (and wrapped) again.
    with connection.chunked_cursor() as reader:
        # Only quoted identifiers from model metadata are interpolated; values are parameters.
        reader.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
        while batch := reader.fetchmany(_BATCH):
            old = [bytes(row[0]) for row in batch]
            new = [crypto.BlindIndexChain.wrap(value, keys) for value in old]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column} = m.new FROM unnest(%s::bytea[], %s::bytea[]) AS m(old, new) "  # noqa: S608
                    f"WHERE {table}.{column} = m.old",
                    [old, new],
                )
                updated += cursor.rowcount
    return updated
