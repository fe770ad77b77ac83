"""Secrets for a developer machine, generated once and kept under .data/.

Nothing here is ever used by production settings: production reads every secret
from its environment and refuses to start without them.
"""

import base64
import json
import os
import secrets
from pathlib import Path


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def load_or_create(path: Path) -> dict:
    """Return the machine's dev secrets, creating them on first use.

    Several processes (web, worker, beat) may start at once; O_EXCL makes one of
    them the writer and the rest readers of the same file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": {"dev-1": _new_key()},
        "FIELD_ENCRYPTION_ACTIVE_KEY": "dev-1",
        "BLIND_INDEX_KEY": _new_key(),
        "AUDIT_CHECKPOINT_KEY": _new_key(),
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle, indent=2)
    return values


def ensure_key(path: Path, name: str) -> str:
    """Add a key a newer version needs to an existing secrets file; returns it."""
    values = json.loads(path.read_text())
    if name not in values:
        values[name] = _new_key()
        path.write_text(json.dumps(values, indent=2))
    return values[name]


def filesystem_broker_options(folder: Path) -> dict:
    """Transport options for kombu's filesystem broker: queues are files under `folder`."""
    queue = folder / "queue"
    processed = folder / "processed"
    control = folder / "control"
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        # Exchange tables; kombu's default is a "control" folder in the current directory.
        "control_folder": str(control),
        "store_processed": False,
    }
