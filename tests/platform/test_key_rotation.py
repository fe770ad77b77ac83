import pytest
from django.core.management import call_command
from django.db import connection

from nextsupport import crypto
from nextsupport.models import AuditEvent
from tests.testapp.models import Person


def key_ids_in_table():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, email, born_on, notes FROM testapp_person")
        return {crypto.key_id_of(bytes(v)) for row in cursor.fetchall() for v in row if v is not None}


@pytest.mark.obligation("P24")
def test_rotation_leaves_no_value_on_the_old_key(db, settings, capsys):
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-old"
    people = [
        Person.objects.create(name=f"Person {i}", phone=f"07911 123{i:03d}", born_on=f"1980-01-0{i % 9 + 1}") for i in range(25)
    ]
    assert key_ids_in_table() == {"test-old"}

    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-1"
    call_command("rotate_encryption_keys", "--batch-size", "10")

    assert key_ids_in_table() == {"test-1"}
    assert [p.name for p in Person.objects.order_by("pk")] == [p.name for p in people]
    assert Person.objects.get(phone_index__matches="07911123007").name == "Person 7"
    output = capsys.readouterr().out
    assert "testapp.Person: 10/25 rows checked, 10 re-encrypted (40%)" in output
    assert "testapp.Person: 25/25 rows checked, 25 re-encrypted (100%)" in output
    assert AuditEvent.objects.filter(action="platform.encryption_keys_rotated").exists()


def test_rotation_run_twice_changes_nothing_the_second_time(db, settings, capsys):
    Person.objects.create(name="Ada")
    call_command("rotate_encryption_keys")
    capsys.readouterr()

    call_command("rotate_encryption_keys")

    assert "testapp.Person: 1/1 rows checked, 0 re-encrypted" in capsys.readouterr().out


def test_report_counts_values_per_key(db, settings, capsys):
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-old"
    Person.objects.create(name="Old", notes="old")
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test-1"
    Person.objects.create(name="New")

    call_command("rotate_encryption_keys", "--report")

    assert "testapp.Person: test-1: 1, test-old: 2" in capsys.readouterr().out
