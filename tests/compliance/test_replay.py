"""Erasures survive a restore from backup: the log (digests and ids only) is replayed (P37, issue 13)."""

import io

import pytest
from django.core.files.storage import storages
from django.core.management import call_command

from accounts.models import User
from compliance import erasure
from compliance.models import ErasureLogEntry
from consumers.models import Consumer
from tests.compliance.conftest import EMAIL, PHONE, make_person
from tests.factories import ConsumerFactory

pytestmark = pytest.mark.django_db
REFERENCE = "DSR-2026-000321"


@pytest.fixture(autouse=True)
def _empty_log_copies():
    storage = storages[erasure.LOG_STORAGE]
    yield
    if storage.exists(erasure.LOG_COPIES):
        for name in storage.listdir(erasure.LOG_COPIES)[1]:
            storage.delete(f"{erasure.LOG_COPIES}/{name}")


def restore_backup_taken_before_the_erasure(person):
    """What a restore does: the erased rows are back as they were, and the log entry made since is not."""
    ErasureLogEntry.objects.all().delete()
    for organisation in (person.first, person.second):
        ConsumerFactory(organisation=organisation, phone=PHONE, email=EMAIL, name="Ada, restored")
    User.objects.filter(pk=person.user.pk).update(email=EMAIL, full_name="Ada L")


def replay() -> str:
    out = io.StringIO()
    call_command("replay_erasures", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.obligation("P37")
def test_data_erased_since_the_backup_is_erased_again_after_a_restore():
    person = make_person()
    erasure.erase_subject(person.subject, reference=REFERENCE)
    restore_backup_taken_before_the_erasure(person)
    assert Consumer.objects.filter(phone_index__matches=PHONE).count() == 2

    output = replay()

    assert not Consumer.objects.filter(phone_index__matches=PHONE).exists()
    user = User.objects.get(pk=person.user.pk)
    assert (user.email, user.full_name) == (f"erased-user-{user.pk}@erased.invalid", None)
    assert ErasureLogEntry.objects.get(reference=REFERENCE).replays == 1
    assert f"{REFERENCE} (all): " in output and "Consumer contact data: consumers deleted" in output
    assert "1 erasure(s) replayed (1 log entries restored from storage)" in output
    # Counts, ids and references only: nothing the person could be recognised by.
    assert PHONE not in output and EMAIL not in output and "Ada" not in output


@pytest.mark.django_db(transaction=True)
def test_replaying_twice_changes_nothing_more():
    person = make_person()
    erasure.erase_subject(person.subject, reference=REFERENCE)
    replay()

    output = replay()

    assert "nothing left to erase" in output
    assert "0 row(s) erased again" in output
    assert ErasureLogEntry.objects.get(reference=REFERENCE).replays == 2


def test_the_log_holds_digests_and_ids_never_content(person):
    erasure.erase_subject(person.subject, reference=REFERENCE)

    entry = ErasureLogEntry.objects.get()

    assert entry.phone_index == person.consumers[0].phone_index
    assert entry.user_id == person.user.pk
    plain = str({f.name: getattr(entry, f.name) for f in entry._meta.concrete_fields})
    assert PHONE not in plain and EMAIL not in plain and "Ada" not in plain
