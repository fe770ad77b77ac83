"""Authenticator secrets move from django-otp's table, where they were plain hex, into
accounts.TOTPDevice, where they are encrypted with the platform's key ring.

Every device keeps its settings, drift, last used step and throttling state, so the
same app goes on producing codes that verify. django-otp's rows are then deleted:
the point is that no plain seed stays in the database. A session verified by an
old device asks for a code once more (it named the device by its old model).
"""

import django.db.models.deletion
import django_otp.plugins.otp_totp.models
import nextsupport.fields
from django.conf import settings
from django.db import migrations, models

from accounts.compliance_group import grant_to_compliance

COPIED = (
    "user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance", "drift", "last_t",
    "throttling_failure_timestamp", "throttling_failure_count", "last_used_at",
)  # fmt: skip


def _move(source, target):
    for device in source.objects.order_by("pk").iterator():
        moved = target.objects.create(**{name: getattr(device, name) for name in COPIED})
        target.objects.filter(pk=moved.pk).update(created_at=device.created_at)  # not the time of the move
    source.objects.all().delete()


def encrypt_secrets(apps, schema_editor):
    _move(apps.get_model("otp_totp", "TOTPDevice"), apps.get_model("accounts", "TOTPDevice"))


def decrypt_secrets(apps, schema_editor):
    _move(apps.get_model("accounts", "TOTPDevice"), apps.get_model("otp_totp", "TOTPDevice"))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_sign_in_pauses_replace_account_locks'),
        ('otp_totp', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='TOTPDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('key', nextsupport.fields.EncryptedTextField(default=django_otp.plugins.otp_totp.models.default_key, help_text='A hex-encoded secret key of up to 40 bytes.', max_length=80, validators=[django_otp.plugins.otp_totp.models.key_validator])),
                ('step', models.PositiveSmallIntegerField(default=30, help_text='The time step in seconds.')),
                ('t0', models.BigIntegerField(default=0, help_text='The Unix time at which to begin counting steps.')),
                ('digits', models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6, help_text='The number of digits to expect in a token.')),
                ('tolerance', models.PositiveSmallIntegerField(default=1, help_text='The number of time steps in the past or future to allow.')),
                ('drift', models.SmallIntegerField(default=0, help_text='The number of time steps the prover is known to deviate from our clock.')),
                ('last_t', models.BigIntegerField(default=-1, help_text='The t value of the latest verified token. The next token must be at a higher time step.')),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, related_name='totp_devices', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'authenticator app',
                'abstract': False,
            },
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        grant_to_compliance("accounts", ["view_totpdevice", "delete_totpdevice"]),
    ]
