import datetime

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, transaction

from nextsupport import crypto
from tests.testapp.models import Person


def raw_row(person, *columns):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM testapp_person WHERE id = %s", [person.pk])
        return [bytes(value) if value is not None else None for value in cursor.fetchone()]


@pytest.mark.obligation("P24")
def test_personal_data_is_not_readable_in_the_database(db):
    person = Person.objects.create(
        name="Ada Lovelace",
        phone="07911 123456",
        email="Ada@Example.org",
        born_on=datetime.date(1990, 12, 10),
        notes="prefers mornings",
    )

    stored = raw_row(person, "name", "phone", "email", "born_on", "notes")

    everything = b"".join(stored)
    for secret in [b"Ada", b"Lovelace", b"7911", b"123456", b"example.org", b"1990", b"mornings"]:
        assert secret not in everything
    assert all(crypto.key_id_of(value) == "test-1" for value in stored)


def test_values_come_back_as_python_types(db):
    person = Person.objects.create(name="Ada", phone="+44 7911 123456", email="ada@example.org", born_on="1990-12-10")

    fresh = Person.objects.get(pk=person.pk)

    assert fresh.name == "Ada"
    assert fresh.phone == "+447911123456"
    assert fresh.email == "ada@example.org"
    assert fresh.born_on == datetime.date(1990, 12, 10)
    assert fresh.notes is None


@pytest.mark.parametrize("typed", ["07911 123456", "+447911123456", "0044 7911 123 456", "(07911) 123-456", "447911123456"])
def test_phone_lookup_through_the_blind_index_accepts_any_spelling(db, typed):
    person = Person.objects.create(phone="07911123456")
    Person.objects.create(phone="07911123457")

    assert list(Person.objects.filter(phone_index__matches=typed)) == [person]


def test_email_lookup_ignores_case_and_surrounding_space(db):
    person = Person.objects.create(email="Ada.Lovelace@Example.ORG")

    assert Person.objects.get(email_index__matches="  ada.lovelace@example.org ") == person


def test_blind_index_follows_the_value_when_it_changes(db):
    person = Person.objects.create(phone="07911123456")
    person.phone = "020 7946 0001"
    person.save()

    assert not Person.objects.filter(phone_index__matches="07911123456").exists()
    assert Person.objects.get(phone_index__matches="+442079460001") == person


def test_the_same_number_has_the_same_index_in_every_table(db):
    person = Person.objects.create(phone="07911 123456")

    assert person.phone_index == Person._meta.get_field("phone_index").digest("+447911123456")
    assert len(person.phone_index) == 32


def test_filtering_on_the_ciphertext_is_refused_with_a_pointer_to_the_index(db):
    with pytest.raises(FieldError, match="filter on its BlindIndexField"):
        Person.objects.filter(phone="07911123456").exists()


def test_an_invalid_phone_number_is_refused_not_stored(db):
    with pytest.raises(ValidationError, match="Not a valid number"), transaction.atomic():
        Person.objects.create(phone="0123")
    assert not Person.objects.exists()


def test_a_value_moved_to_another_column_does_not_decrypt(db):
    # The field's identity is bound into each value as associated data.
    person = Person.objects.create(name="Ada", notes="x")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE testapp_person SET notes = name WHERE id = %s", [person.pk])

    with pytest.raises(crypto.DecryptionError, match=r"testapp\.Person\.notes"):
        Person.objects.get(pk=person.pk)


def test_a_tampered_value_raises_instead_of_returning_ciphertext(db):
    person = Person.objects.create(name="Ada")
    with connection.cursor() as cursor:
        # Flip one bit of the ciphertext.
        cursor.execute("UPDATE testapp_person SET name = set_byte(name, 25, get_byte(name, 25) # 1) WHERE id = %s", [person.pk])

    with pytest.raises(crypto.DecryptionError, match="altered"):
        Person.objects.get(pk=person.pk)


def test_a_value_under_a_key_no_longer_in_the_ring_raises(db, settings):
    person = Person.objects.create(name="Ada")
    settings.FIELD_ENCRYPTION_KEYS = {"test-2": settings.FIELD_ENCRYPTION_KEYS["test-old"]}
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-2"

    with pytest.raises(crypto.DecryptionError, match="not in the key ring"):
        Person.objects.get(pk=person.pk)


def test_key_ring_refuses_an_active_key_it_does_not_hold():
    with pytest.raises(Exception, match="not in FIELD_ENCRYPTION_KEYS"):
        crypto.KeyRing.from_config({"a": "a" * 44}, "b")


def test_key_ring_refuses_short_keys():
    with pytest.raises(Exception, match="must be 32 bytes"):
        crypto.KeyRing.from_config({"a": "c2hvcnQ="}, "a")


def test_a_row_loaded_changed_and_saved_gets_its_new_index(db):
    Person.objects.create(phone="07911 123456")
    loaded = Person.objects.get()

    loaded.phone = "07911 223450"
    loaded.save()

    assert Person.objects.filter(phone_index__matches="07911223450").exists()
    assert not Person.objects.filter(phone_index__matches="07911123456").exists()


def test_bulk_update_writes_matching_indexes(db):
    people = [Person.objects.create(phone=f"07911 12345{i}") for i in range(3)]
    loaded = list(Person.objects.order_by("pk"))
    for person in loaded:
        person.phone = person.phone.replace("+4479111", "+4479112")  # 07911 12345x -> 07911 22345x

    Person.objects.bulk_update(loaded, ["phone", "phone_index"])

    assert Person.objects.get(phone_index__matches="07911 223450").pk == people[0].pk


def test_a_stand_alone_blind_index_takes_only_a_digest(db):
    from consumers.models import PlatformSuppression
    from nextsupport.fields import digest

    entry = PlatformSuppression.objects.create(
        phone_index=digest("phone", "07911 123456"), reason="opt_out", source="web_opt_out"
    )

    assert PlatformSuppression.objects.get(phone_index__matches="+44 7911 123456") == entry
    with pytest.raises(ValueError, match="takes a 32-byte digest"):
        PlatformSuppression.objects.create(phone_index="07911 123456", reason="opt_out", source="web_opt_out")


def test_a_stand_alone_blind_index_must_name_its_purpose():
    from django.db import models
    from django.test.utils import isolate_apps

    from nextsupport.fields import BlindIndexField

    with isolate_apps("tests.testapp"):

        class Orphan(models.Model):
            phone_index = BlindIndexField()

            class Meta:
                app_label = "testapp"

        errors = Orphan._meta.get_field("phone_index").check()

    assert [e.id for e in errors] == ["nextsupport.E012"]
