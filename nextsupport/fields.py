"""The one field type for personal data, and its blind index.

    class Consumer(models.Model):
        phone = EncryptedPhoneField()
        phone_index = BlindIndexField(source="phone")

    Consumer.objects.filter(phone_index__matches="07700 900123")

The column holds AES-GCM ciphertext (see crypto.py); the Python attribute holds
the plain value, decrypted on load. A blind index is never set by hand: its
attribute is always computed from the current value of its source field, so
save(), bulk_create() and bulk_update() (naming both fields) never write an
index that disagrees with its value. `QuerySet.update()` does not go through
the instance: never use it on an indexed field.

A record that must outlive the value itself (an opt-out, a suppression entry)
keeps only the index, with no source field:

    class Suppression(models.Model):
        phone_index = BlindIndexField(purpose="phone")

    Suppression.objects.create(phone_index=digest("phone", "07911 123456"))
"""

import datetime
import re

from django import forms
from django.core import checks
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models.lookups import Exact
from django.db.models.query_utils import DeferredAttribute

from . import crypto
from .identifiers import NORMALISERS, normalise_email, normalise_phone


class EncryptedField(models.Field):
    """Base class: subclasses say how their Python value becomes bytes and back."""

    # Which normaliser a BlindIndexField over this field uses.
    index_purpose: str | None = None
    description = "Encrypted personal data"

    def __init__(self, *args, associated_data: str | None = None, **kwargs):
        # Set associated_data when renaming a model or field, to keep the old
        # binding and so still decrypt the values written under the old name.
        self.associated_data = associated_data
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        self._aad = (self.associated_data or f"{cls._meta.label_lower}.{name}").encode()

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.associated_data:
            kwargs["associated_data"] = self.associated_data
        return name, path, args, kwargs

    def get_internal_type(self):
        return "BinaryField"

    # -- conversions -----------------------------------------------------------

    def to_text(self, value) -> str:
        """The canonical text form of a Python value (validated)."""
        return str(value)

    def from_text(self, text: str):
        return text

    def encrypt(self, value) -> bytes | None:
        """Ciphertext for a Python value: what the column stores (also for COPY)."""
        if value is None:
            return None
        return crypto.keyring().encrypt(self.to_text(self.to_python(value)).encode(), self._aad)

    def decrypt(self, token) -> object:
        if token is None:
            return None
        try:
            return self.from_text(crypto.keyring().decrypt(bytes(token), self._aad).decode())
        except crypto.DecryptionError as exc:
            raise crypto.DecryptionError(f"{self.model._meta.label}.{self.name}: {exc}") from exc

    def from_db_value(self, value, expression, connection):
        return self.decrypt(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        return self.encrypt(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else self.to_text(value)

    # -- queries -----------------------------------------------------------------

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted and cannot be filtered with "
            f"'{lookup_name}'; filter on its BlindIndexField instead."
        )

    def get_transform(self, lookup_name):
        return None

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.db_index or self.primary_key:
            errors.append(
                checks.Error(
                    "Encrypted fields cannot be unique, indexed or primary keys (every value has a fresh nonce).",
                    hint="Put unique=True or db_index=True on a BlindIndexField over this field.",
                    obj=self,
                    id="nextsupport.E010",
                )
            )
        return errors


class EncryptedTextField(EncryptedField):
    """Names, addresses, free text. `max_length` only limits what forms accept."""

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def formfield(self, **kwargs):
        widget = forms.Textarea if self.max_length is None else None
        defaults = {"form_class": forms.CharField, "max_length": self.max_length}
        if widget:
            defaults["widget"] = widget
        return super().formfield(**{**defaults, **kwargs})


class EncryptedEmailField(EncryptedTextField):
    index_purpose = "email"
    default_validators = []

    def to_text(self, value) -> str:
        normalise_email(value)  # validates; the address keeps its own spelling
        return value.strip()

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.EmailField, **kwargs})


class EncryptedPhoneField(EncryptedTextField):
    """Stored in E.164; assigning "07700 900123" stores "+447700900123"."""

    index_purpose = "phone"

    def to_python(self, value):
        value = super().to_python(value)
        return None if value in (None, "") else normalise_phone(value)

    def pre_save(self, model_instance, add):
        # The instance holds what was stored: "+447911123456", not "07911 123456".
        value = self.to_python(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": 32, **kwargs})


class EncryptedDateField(EncryptedField):
    """Dates of birth and other personal dates."""

    def to_python(self, value):
        if value is None or isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError(f"{value!r} is not a date (expected YYYY-MM-DD).", code="invalid") from exc

    def to_text(self, value) -> str:
        return value.isoformat()

    def from_text(self, text: str):
        return datetime.date.fromisoformat(text)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.DateField, **kwargs})


def _normalise_text(raw: str) -> str:
    return re.sub(r"\s+", " ", raw).strip().casefold()


# The identifiers' own normalisers (one spelling of a number or address everywhere), plus free text.
_INDEX_NORMALISERS = {**NORMALISERS, "text": _normalise_text}


def digest(purpose: str, raw: str) -> bytes:
    """The blind index of a raw value for `purpose`; raises ValidationError if it is not valid."""
    return crypto.blind_index(purpose, _INDEX_NORMALISERS[purpose](raw))


class _BlindIndexAttribute:
    """The index of whatever the source field holds now; assignments are ignored
    (a value read from the database is recomputed from the decrypted source)."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = getattr(instance, self.field.source)
        cached = instance.__dict__.get(self.field.attname)
        if cached is not None and cached[0] == value:
            return cached[1]
        index = self.field.digest_or_none(value)
        instance.__dict__[self.field.attname] = (value, index)
        return index

    def __set__(self, instance, value):
        # Present in __dict__ (so Django never treats the field as deferred and
        # leaves it out of an UPDATE), but recomputed on the next read.
        instance.__dict__[self.field.attname] = (_STALE, None)


_STALE = object()


class BlindIndexField(models.BinaryField):
    """HMAC-SHA256 of the normalised value of an encrypted field, for exact lookups.

    With `source`, the index always follows that encrypted field. Without one
    (`purpose` required), it is a stand-alone index: the value it was computed
    from is not stored anywhere, and only `digest(purpose, raw)` may be assigned.
    """

    description = "Blind index (HMAC-SHA256) of an encrypted field"

    def __init__(self, *args, source: str | None = None, purpose: str | None = None, **kwargs):
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("null", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    @property
    def descriptor_class(self):
        return _BlindIndexAttribute if self.source else DeferredAttribute

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.source:
            kwargs["source"] = self.source
        if self.purpose:
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def index_purpose(self) -> str:
        if self.purpose:
            return self.purpose
        return self.model._meta.get_field(self.source).index_purpose or "text"

    def digest(self, raw: str) -> bytes:
        return digest(self.index_purpose(), raw)

    def digest_or_none(self, raw) -> bytes | None:
        if raw is None or raw == "":
            return None
        try:
            return self.digest(str(raw))
        except ValidationError:
            # An invalid value cannot be saved anyway: the encrypted field's
            # validation refuses it, loudly, at save time.
            return None

    def get_db_prep_value(self, value, connection, prepared=False):
        # A stand-alone index must never receive the value it stands for: a
        # phone number written here would be a plaintext personal column.
        if value is not None and (not isinstance(value, bytes | bytearray | memoryview) or len(value) != 32):
            raise ValueError(f"{self.model._meta.label}.{self.name} takes a 32-byte digest(...), not a raw value.")
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value, expression, connection):
        return None if value is None else bytes(value)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.source is None:
            if self.purpose not in _INDEX_NORMALISERS:
                errors.append(
                    checks.Error(
                        f"A stand-alone blind index needs purpose= one of {sorted(_INDEX_NORMALISERS)}.",
                        obj=self,
                        id="nextsupport.E012",
                    )
                )
            return errors
        try:
            source = self.model._meta.get_field(self.source)
        except Exception:
            source = None
        if not isinstance(source, EncryptedField):
            errors.append(
                checks.Error(f"source={self.source!r} is not an encrypted field of this model.", obj=self, id="nextsupport.E011")
            )
        return errors


@BlindIndexField.register_lookup
class Matches(Exact):
    """`phone_index__matches="07700 900123"`: normalise, hash, compare."""

    lookup_name = "matches"

    def get_prep_lookup(self):
        return self.lhs.output_field.digest(self.rhs)

    def get_rhs_op(self, connection, rhs):
        return f"= {rhs}"
