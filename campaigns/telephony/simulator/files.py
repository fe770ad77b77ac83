"""The simulator's files, shared by the process playing a call and the web process commanding it.

Every write replaces a file whole (readers see the old one or the new one), and a
read-modify-write holds the file's lock, so neither process undoes the other's change.
"""

import contextlib
import fcntl
import json
import logging
import os
import re
import uuid
from pathlib import Path

from django.conf import settings

from ..base import ProviderError

logger = logging.getLogger(__name__)

SID = re.compile(r"^(CA|RE)[0-9a-f]{32}$")


def call_state(sid: str) -> dict | None:
    """What the simulator knows of call `sid` (its line, the transcript once it ended); None if unknown."""
    if not SID.match(sid):
        return None
    return read_json(location("calls", f"{sid}.json"))


def location(*parts: str) -> Path:
    """A file under TELEPHONY_SIMULATOR_DIR, its folder made if need be."""
    path = Path(settings.TELEPHONY_SIMULATOR_DIR).joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def recording_path(recording_sid: str) -> Path:
    if not SID.match(recording_sid) or not recording_sid.startswith("RE"):
        raise ProviderError(f"{recording_sid!r} is not a recording of the simulator.", permanent=True)
    return location("recordings", f"{recording_sid}.wav")


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def write_bytes(path: Path, content: bytes) -> None:
    """Readers in other processes see the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def write_json(path: Path, data: dict) -> None:
    write_bytes(path, json.dumps(data).encode())


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def locked(path: Path):
    """The JSON at `path` (or None), written back on exit: one process at a time changes it."""
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = read_json(path)
            yield data
            if data is not None:
                write_json(path, data)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked_call(sid: str):
    if not SID.match(sid) or not sid.startswith("CA"):
        raise ProviderError(f"{sid!r} is not a call of the simulator.", permanent=True)
    with locked(location("calls", f"{sid}.json")) as state:
        if state is None:
            raise ProviderError(f"The simulator has no call {sid}.", permanent=True)
        yield state


def claim(sid: str) -> dict | None:
    try:
        with locked_call(sid) as state:
            if state["played"]:
                return None
            state["played"] = True
            return dict(state)
    except ProviderError:
        logger.warning("Simulator: no call %s to play.", sid)
        return None


def claim_validation(reference: str) -> dict | None:
    if not SID.match(reference):
        return None
    with locked(location("validations", f"{reference}.json")) as validation:
        if validation is None or validation.get("played"):
            return None
        validation["played"] = True
        return dict(validation)
