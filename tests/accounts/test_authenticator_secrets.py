"""Authenticator secrets are encrypted at rest (P24, P25): a database backup no longer hands
out second factors, and django-otp verifies codes exactly as before."""

import datetime
import importlib
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from accounts.models import TOTPDevice
from nextsupport import crypto, privacy
from tests.accounts.helpers import current_code

SEED = "3132333435363738393031323334353637383930"  # RFC 6238's test seed, as hex


def stored_key(device) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_totpdevice WHERE id = %s", [device.pk])
        return bytes(cursor.fetchone()[0])


def code_for(seed_hex: str) -> str:
    totp = TOTP(bytes.fromhex(seed_hex), 30, 0, 6, 0)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.mark.obligation("P24", "P25")
def test_an_authenticator_secret_is_stored_encrypted_and_codes_still_verify(owner):
    # Given an authenticator app set up with a known seed
    device = TOTPDevice.objects.create(user=owner, name="Phone", key=SEED, confirmed=True)

    # When the database is read as a backup would be
    raw = stored_key(device)

    # Then the seed is not in it, in hex or in bytes, and the app's codes verify once each (django-otp's rules)
    assert SEED.encode() not in raw and bytes.fromhex(SEED) not in raw
    assert crypto.key_id_of(raw) == "test-1"
    device = TOTPDevice.objects.get(pk=device.pk)
    code = code_for(SEED)
    assert device.verify_token(code)
    assert not device.verify_token(code)  # the same code twice: refused
    assert not PlainTOTPDevice.objects.exists()


@pytest.mark.obligation("P24")
def test_existing_devices_are_moved_into_encrypted_storage_and_keep_working(owner, teammate):
    # Given devices as django-otp stored them, seeds in plain hex, one with drift and a used step
    created = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)
    PlainTOTPDevice.objects.bulk_create(  # as before the change (bulk_create skips today's guard)
        [
            PlainTOTPDevice(user=owner, name="Phone", key=SEED, confirmed=True, drift=1, last_t=5, created_at=created),
            PlainTOTPDevice(user=teammate, name="Tablet", key="ab" * 20, confirmed=False),
        ]
    )
    PlainTOTPDevice.objects.filter(user=owner).update(created_at=created)

    # When the migration runs
    importlib.import_module("accounts.migrations.0010_totp_secrets_encrypted").encrypt_secrets(apps, None)

    # Then no plain seed is left, each device is encrypted with its settings, and the owner's app still signs in
    assert not PlainTOTPDevice.objects.exists()
    moved = TOTPDevice.objects.get(user=owner)
    assert (moved.name, moved.confirmed, moved.key, moved.drift, moved.last_t, moved.created_at) == (
        "Phone",
        True,
        SEED,
        1,
        5,
        created,
    )
    assert SEED.encode() not in stored_key(moved)
    assert TOTPDevice.objects.get(user=teammate).confirmed is False
    moved.drift = 0  # the app's clock agrees with ours
    assert moved.verify_token(code_for(SEED))


@pytest.mark.obligation("P24")
def test_rotating_the_encryption_key_re_encrypts_authenticator_secrets(owner, settings):
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-old"
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-1"

    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert crypto.key_id_of(stored_key(device)) == "test-1"
    assert TOTPDevice.objects.get(pk=device.pk).verify_token(current_code(device))


def test_django_otps_plain_model_refuses_new_secrets(owner):
    with pytest.raises(PermissionError, match="stored encrypted"):
        PlainTOTPDevice.objects.create(user=owner, name="Phone")


def test_an_access_copy_never_carries_the_secret(owner):
    device = TOTPDevice.objects.create(user=owner, name="Phone", key=SEED)

    exported = privacy.registration_for(TOTPDevice).export(device)

    assert exported["name"] == "Phone" and SEED not in str(exported)
