"""Moving stored values onto the active encryption key."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction

from . import crypto
from .fields import EncryptedField


def encrypted_models() -> list:
    return [m for m in apps.get_models() if _encrypted_fields(m)]


def _encrypted_fields(model) -> list[EncryptedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField) and f.model is model]


@dataclass(frozen=True)
class Progress:
    total: int
    checked: int
    rotated: int

    @property
    def percent(self) -> float:
        return 100.0 * self.checked / self.total if self.total else 100.0


def _raw_batches(model, fields, batch_size) -> Iterator[list[tuple]]:
    """(pk, ciphertext...) in primary-key order, read as stored (never decrypted)."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    last = None
    while True:
        where, params = (f"WHERE {pk} > %s", [last]) if last is not None else ("", [])
        with connection.cursor() as cursor:
            # Only quoted identifiers from model metadata are interpolated; values are parameters.
            cursor.execute(f"SELECT {pk}, {columns} FROM {table} {where} ORDER BY {pk} LIMIT %s", [*params, batch_size])  # noqa: S608
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_model(model, *, batch_size: int = 1000) -> Iterator[Progress]:
    """Re-encrypt, batch by batch, the rows with any value on a key other than the active one."""
    fields = _encrypted_fields(model)
    active = crypto.keyring().active_id
    total = model._base_manager.count()
    checked = rotated = 0
    for rows in _raw_batches(model, fields, batch_size):
        stale = [row[0] for row in rows if any(v is not None and crypto.key_id_of(v) != active for v in row[1:])]
        if stale:
            with transaction.atomic():
                # Locked while re-encrypting: a concurrent save cannot be overwritten by the old values.
                objects = list(model._base_manager.select_for_update().filter(pk__in=stale))
                model._base_manager.bulk_update(objects, [f.name for f in fields])
        checked += len(rows)
        rotated += len(stale)
        yield Progress(total, checked, rotated)


def key_usage() -> dict:
    """For every model with encrypted fields: how many stored values each key id protects."""
    usage = {}
    for model in encrypted_models():
        counts = Counter()
        for rows in _raw_batches(model, _encrypted_fields(model), 5000):
            counts.update(crypto.key_id_of(v) for row in rows for v in row[1:] if v is not None)
        usage[model] = dict(counts)
    return usage
