"""The blind-index key can be rotated without losing a single suppression or do-not-call entry,
though those entries are kept only as digests (P24, P30, P40, P49)."""

import base64
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from consumers import services as consumer_services
from consumers.models import ConsentRecord, Consumer, SuppressionReason, SuppressionSource
from consumers.selectors import is_suppressed, registered_among
from nextsupport import blind_index_rotation, crypto, health
from nextsupport.fields import digest
from nextsupport.models import BlindIndexRotation
from tests.factories import ConsentRecordFactory, ConsumerFactory, InvitationFactory

NEW_KEY = {"2027-01": base64.b64encode(b"n" * 32).decode()}
ERASED, OPTED_OUT, ON_TPS, CUSTOMER = "07911 100001", "07911 100002", "07911 100003", "07911 100004"


@pytest.fixture
def entries(organisation, owner):
    """A client's data of every kind that is kept, or kept only, as a blind index."""
    customer = ConsumerFactory(organisation=organisation, phone=CUSTOMER, email="ada@home.example")
    ConsentRecordFactory(organisation=organisation, consumer=customer)
    erased = ConsumerFactory(organisation=organisation, phone=ERASED)
    consumer_services.consumers_erase(queryset=Consumer.objects.filter(pk=erased.pk))  # leaves only its digest
    consumer_services.suppression_add(
        phone=OPTED_OUT, organisation=None, reason=SuppressionReason.OPT_OUT, source=SuppressionSource.WEB_OPT_OUT
    )
    for kind, numbers in (("tps", [ON_TPS]), ("ctps", [])):
        consumer_services.screening_register_load(
            kind=kind, file_date=customer.created_at.date(), stream=io.BytesIO("\n".join(numbers).encode()), imported_by="test"
        )
    InvitationFactory(organisation=organisation, email="new.starter@acme.example")
    return customer


def stored_digests() -> set[bytes]:
    found = set()
    with connection.cursor() as cursor:
        for model, field in blind_index_rotation.indexed_columns():
            cursor.execute(f"SELECT {field.column} FROM {model._meta.db_table} WHERE {field.column} IS NOT NULL")
            found |= {bytes(row[0]) for row in cursor.fetchall()}
    return found


def rotate(settings) -> str:
    settings.BLIND_INDEX_ROTATION_KEYS = NEW_KEY
    out = io.StringIO()
    call_command("rotate_blind_index_key", stdout=out)
    return out.getvalue()


@pytest.mark.obligation("P24", "P40", "P49")
def test_after_a_rotation_every_entry_kept_only_as_a_digest_still_matches_its_number(entries, organisation, settings):
    # Given digests under the first key, which has leaked
    before = {n: digest("phone", n) for n in (ERASED, OPTED_OUT, ON_TPS, CUSTOMER)}

    # When a new key is added and the stored digests are re-keyed
    output = rotate(settings)

    # Then the erased person and the opt-out are still never called, the TPS number is still screened out
    assert "rows re-keyed in one transaction" in output
    assert is_suppressed(organisation=organisation, phone=ERASED)
    assert is_suppressed(organisation=organisation, phone=OPTED_OUT)
    assert registered_among([digest("phone", ON_TPS)]) == {digest("phone", ON_TPS)}
    # And records found by number or address still are, with their consent evidence
    assert Consumer.objects.get(phone_index__matches=CUSTOMER) == entries
    assert Consumer.objects.get(email_index__matches="ADA@home.example") == entries
    assert ConsentRecord.objects.filter(phone_index=digest("phone", CUSTOMER)).count() == 1
    assert organisation.invitations.get(email_index__matches="new.starter@acme.example")
    # And no digest the leaked key alone computes is left anywhere
    assert not set(before.values()) & stored_digests()
    assert set(before.values()).isdisjoint({digest("phone", n) for n in before})


def test_a_rotation_is_recorded_and_running_it_again_changes_nothing(entries, settings):
    rotate(settings)
    after = stored_digests()

    again = rotate(settings)

    assert "Nothing to do" in again
    assert stored_digests() == after
    assert list(BlindIndexRotation.objects.values_list("key_id", flat=True)) == ["2027-01"]


def test_a_rotation_that_fails_half_way_leaves_every_digest_as_it_was(entries, settings, monkeypatch):
    before = stored_digests()
    real = blind_index_rotation._rekey_column
    calls = []

    def fails_on_the_third_column(model, field, keys):
        calls.append(field)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(model, field, keys)

    monkeypatch.setattr(blind_index_rotation, "_rekey_column", fails_on_the_third_column)
    with pytest.raises(RuntimeError):
        rotate(settings)

    assert stored_digests() == before
    assert not BlindIndexRotation.objects.exists()


def test_a_key_can_only_be_added_at_the_end_of_the_chain(entries, settings):
    rotate(settings)
    settings.BLIND_INDEX_ROTATION_KEYS = {"other": base64.b64encode(b"x" * 32).decode()}

    with pytest.raises(CommandError, match="keys are only ever added"):
        call_command("rotate_blind_index_key", stdout=io.StringIO())


def test_a_process_whose_keys_differ_from_the_databases_reports_itself_unhealthy(db, settings):
    settings.BLIND_INDEX_ROTATION_KEYS = NEW_KEY  # configured, not yet applied

    check = health._timed("blind_index_keys", health.PROBES["blind_index_keys"])

    assert not check.ok and check.error == "BlindIndexKeysOutOfStep"


def test_the_chain_wraps_the_earlier_digest_so_no_plaintext_is_needed(settings):
    first = crypto.blind_index("phone", "+447911100001")
    settings.BLIND_INDEX_ROTATION_KEYS = NEW_KEY

    chained = crypto.blind_index("phone", "+447911100001")

    assert chained != first
    assert chained == crypto.BlindIndexChain.wrap(first, crypto.blind_index_chain().rotations)
