"""Models that exist only in the test settings, to exercise the platform primitives."""

from django.db import models

from nextsupport import privacy
from nextsupport.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedPhoneField,
    EncryptedTextField,
)


@privacy.register(
    category=privacy.Category.CONSUMER,
    controller=privacy.Controller.CLIENT,
    fields=("name", "phone", "email", "born_on", "notes"),
    subject={"phone": "phone_index", "email": "email_index"},
    retention=privacy.Retention(days=30, after="created_at", action=privacy.Action.DELETE, basis="test"),
    erasure=privacy.Action.DELETE,
)
class Person(models.Model):
    name = EncryptedTextField(max_length=100, null=True, blank=True)
    phone = EncryptedPhoneField(null=True, blank=True)
    phone_index = BlindIndexField(source="phone")
    email = EncryptedEmailField(null=True, blank=True)
    email_index = BlindIndexField(source="email")
    born_on = EncryptedDateField(null=True, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class PlainPerson(models.Model):
    """The same data in plain columns: the benchmark's baseline."""

    name = models.CharField(max_length=100, null=True)  # noqa: DJ001 (mirrors the nullable encrypted columns)
    phone = models.CharField(max_length=32, null=True, db_index=True)  # noqa: DJ001
    email = models.CharField(max_length=254, null=True, db_index=True)  # noqa: DJ001
    born_on = models.DateField(null=True)
    notes = models.TextField(null=True)  # noqa: DJ001
