"""Authenticated encryption of personal data, and blind indexes for exact lookups.

A stored value is `version | key-id length | key id | nonce | AES-256-GCM(ciphertext+tag)`.
The key id lets a key ring hold old keys while new values use the active one;
the associated data binds each value to the field it belongs to, so a ciphertext
copied into another column (or another model) fails to decrypt instead of
being read as that column's data.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

FORMAT_VERSION = 1
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted: wrong field, unknown key, or tampering."""


def _decode_key(key_id: str, value: str | bytes) -> bytes:
    try:
        key = base64.b64decode(value, validate=True) if isinstance(value, str) else value
    except binascii.Error as exc:
        raise ImproperlyConfigured(f"Encryption key {key_id!r} is not valid base64.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"Encryption key {key_id!r} must be 32 bytes (AES-256), not {len(key)}.")
    return key


@dataclass(frozen=True)
class KeyRing:
    ciphers: dict[str, AESGCM]
    active_id: str

    @classmethod
    def from_config(cls, keys: dict[str, str | bytes], active_id: str) -> "KeyRing":
        if not keys:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: personal data cannot be stored.")
        if active_id not in keys:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_ACTIVE_KEY {active_id!r} is not in FIELD_ENCRYPTION_KEYS.")
        for key_id in keys:
            if not key_id or len(key_id.encode()) > 255:
                raise ImproperlyConfigured(f"Encryption key id {key_id!r} must be 1 to 255 bytes long.")
        return cls({key_id: AESGCM(_decode_key(key_id, value)) for key_id, value in keys.items()}, active_id)

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        key_id = self.active_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.ciphers[self.active_id].encrypt(nonce, plaintext, associated_data)
        return bytes((FORMAT_VERSION, len(key_id))) + key_id + nonce + sealed

    def decrypt(self, token: bytes, associated_data: bytes) -> bytes:
        key_id = key_id_of(token)
        cipher = self.ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"Value was encrypted with key {key_id!r}, which is not in the key ring.")
        start = 2 + len(key_id.encode())
        try:
            return cipher.decrypt(token[start : start + NONCE_BYTES], token[start + NONCE_BYTES :], associated_data)
        except InvalidTag as exc:
            raise DecryptionError(
                f"Value does not authenticate under key {key_id!r} for {associated_data.decode()!r}: "
                "it was altered, or belongs to another field."
            ) from exc


def key_id_of(token: bytes) -> str:
    """The id of the key a stored value was encrypted with."""
    token = bytes(token)
    if len(token) < 2 or token[0] != FORMAT_VERSION:
        raise DecryptionError("Value is not in the encrypted-field format (unknown version byte).")
    length = token[1]
    if len(token) < 2 + length + NONCE_BYTES + 16:
        raise DecryptionError("Value is truncated.")
    return token[2 : 2 + length].decode()


@cache
def keyring() -> KeyRing:
    return KeyRing.from_config(settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY)


@dataclass(frozen=True)
class BlindIndexChain:
    """The blind-index key and the keys later rotations added, each wrapping the digest before it.

        digest = HMAC(K_n, ... HMAC(K_1, HMAC(BLIND_INDEX_KEY, purpose | value)))

    A rotation adds a key and re-keys every stored digest by wrapping it once more
    (nextsupport.blind_index_rotation), which needs no plaintext: a suppression or
    do-not-call entry, kept only as a digest, matches its number again afterwards.
    Earlier keys stay in the chain; once the stored digests are wrapped, a leaked
    earlier key alone no longer lets anyone test a number against the database.
    """

    root: bytes
    rotations: tuple[tuple[str, bytes], ...]  # (key id, key), oldest first

    @classmethod
    def from_config(cls, root: str, rotations: dict[str, str]) -> "BlindIndexChain":
        if not root:
            raise ImproperlyConfigured("BLIND_INDEX_KEY is not set: blind indexes cannot be computed.")
        for key_id in rotations:
            if not key_id or len(key_id) > 64:
                raise ImproperlyConfigured(f"Blind-index key id {key_id!r} must be 1 to 64 characters long.")
        return cls(
            _decode_key("BLIND_INDEX_KEY", root),
            tuple((key_id, _decode_key(key_id, value)) for key_id, value in rotations.items()),
        )

    @property
    def key_ids(self) -> list[str]:
        return [key_id for key_id, _ in self.rotations]

    def digest(self, message: bytes) -> bytes:
        return self.wrap(hmac.new(self.root, message, hashlib.sha256).digest(), self.rotations)

    @staticmethod
    def wrap(digest: bytes, keys) -> bytes:
        for _, key in keys:
            digest = hmac.new(key, digest, hashlib.sha256).digest()
        return digest


@cache
def blind_index_chain() -> BlindIndexChain:
    return BlindIndexChain.from_config(settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_ROTATION_KEYS)


def blind_index(purpose: str, normalised: str) -> bytes:
    """HMAC-SHA256 of an already normalised value, separated by purpose ("phone", "email"),
    under the blind-index key chain.

    The same purpose gives the same digest in every table, which is what lets a
    suppression entry outlive the consumer record it came from.
    """
    return blind_index_chain().digest(purpose.encode() + b"\x00" + normalised.encode())


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting in {"FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY", "BLIND_INDEX_KEY", "BLIND_INDEX_ROTATION_KEYS"}:
        keyring.cache_clear()
        blind_index_chain.cache_clear()
