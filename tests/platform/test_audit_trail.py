import datetime
import hashlib
import json
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory

from nextsupport import audit
from nextsupport.models import AuditEvent


def write_events(count, **kwargs):
    return [audit.record(f"test.event_{i}", actor_label="system", details={"n": i}, **kwargs) for i in range(count)]


def tamper(sql, params):
    # What an attacker with database access could do: bypass the trigger and edit.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE nextsupport_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE nextsupport_auditevent ENABLE TRIGGER audit_event_append_only")


def test_events_form_a_chain(db):
    first, second, third = write_events(3)

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert audit.verify_chain().ok


def test_an_event_records_who_what_which_object_where_and_why(db, owner, organisation):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = owner

    event = audit.record(
        "consumers.list_exported", request=request, target=organisation, reason="client asked", details={"rows": 12}
    )

    event.refresh_from_db()
    assert (event.actor, event.action, event.ip_network, event.reason) == (
        owner,
        "consumers.list_exported",
        "203.0.113.0/24",
        "client asked",
    )
    assert (event.target_type, event.target_id, event.details) == ("accounts.organisation", str(organisation.pk), {"rows": 12})


@pytest.mark.obligation("P26")
def test_tampering_with_one_event_is_detected_at_that_event(db):
    events = write_events(5)
    tamper("UPDATE nextsupport_auditevent SET reason = 'nothing to see' WHERE id = %s", [events[2].pk])

    report = audit.verify_chain()

    assert not report.ok
    assert report.broken_at == 3
    assert "altered" in report.problem
    assert report.checked == 2


@pytest.mark.obligation("P26")
def test_a_removed_event_is_detected(db):
    events = write_events(4)
    tamper("DELETE FROM nextsupport_auditevent WHERE id = %s", [events[1].pk])

    report = audit.verify_chain()

    assert (report.ok, report.broken_at) == (False, 3)
    assert "#2 is missing" in report.problem


@pytest.mark.obligation("P26")
def test_an_event_rewritten_with_a_fresh_hash_still_breaks_the_next_link(db):
    events = write_events(3)
    victim = AuditEvent.objects.get(pk=events[0].pk)
    victim.reason = "rewritten"
    tamper(
        "UPDATE nextsupport_auditevent SET reason = %s, hash = %s WHERE id = %s",
        [victim.reason, audit.event_hash(victim), victim.pk],
    )

    assert audit.verify_chain().broken_at == 2


def test_verify_command_reports_the_first_broken_link(db, capsys):
    events = write_events(3)
    call_command("verify_audit_chain")
    assert "3 events verified" in capsys.readouterr().out

    tamper("UPDATE nextsupport_auditevent SET action = 'x' WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match="broken at event #2"):
        call_command("verify_audit_chain")


@pytest.mark.obligation("P26")
def test_the_application_has_no_update_or_delete_path(db):
    event = write_events(1)[0]

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.obligation("P26")
@pytest.mark.parametrize("statement", ["UPDATE nextsupport_auditevent SET reason = 'x'", "DELETE FROM nextsupport_auditevent"])
def test_the_database_refuses_updates_and_deletes(db, statement):
    write_events(1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.obligation("P26")
def test_the_admin_offers_no_add_change_or_delete(db, compliance_officer):
    model_admin = site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = compliance_officer

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_a_forwarded_address_is_trusted_only_behind_our_own_proxy(db, settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert audit.record("x", request=request).ip_network == "10.0.0.0/24"
    settings.TRUSTED_PROXY_COUNT = 1
    assert audit.record("x", request=request).ip_network == "198.51.100.0/24"


@pytest.mark.obligation("P26")
def test_the_trail_keeps_no_address_yet_tells_events_from_one_address_apart(db):
    # Given events from one address, from its neighbour on the same network, and from an IPv6 address
    def from_address(address):
        return audit.record("x", request=RequestFactory().get("/", REMOTE_ADDR=address))

    first, again, neighbour = from_address("203.0.113.9"), from_address("203.0.113.9"), from_address("203.0.113.10")
    six = from_address("2001:db8:1234:5678::1")

    # Then no column of any event holds an address
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM nextsupport_auditevent")
        stored = repr(cursor.fetchall())
    for address in ("203.0.113.9", "203.0.113.10", "2001:db8:1234:5678"):
        assert address not in stored
    # And investigators can still tell which came from one address, and from which network
    assert first.ip_digest == again.ip_digest != neighbour.ip_digest
    assert first.ip_network == neighbour.ip_network == "203.0.113.0/24"
    assert six.ip_network == "2001:db8:1234::/48"


def test_staff_find_an_addresss_events_by_typing_the_address(db, rf):
    audit.record("x", request=RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))
    audit.record("y", request=RequestFactory().get("/", REMOTE_ADDR="203.0.113.10"))
    model_admin = site._registry[AuditEvent]

    found, _ = model_admin.get_search_results(rf.get("/"), AuditEvent.objects.all(), "203.0.113.9")

    assert list(found.values_list("action", flat=True)) == ["x"]


def _legacy_event(sequence, prev_hash, ip_address):
    """An event as audit.record wrote it before the trail stopped keeping addresses."""
    event = AuditEvent(
        sequence=sequence,
        occurred_at=datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC),
        actor_label="anonymous",
        action="auth.sign_in_failed",
        ip_address=ip_address,
        details={"reason": "password"},
        prev_hash=prev_hash,
    )
    event.hash = event_hash_before_issue_10(event)
    event.save(force_insert=True)
    return event


def event_hash_before_issue_10(event) -> str:
    payload = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "organisation_id": event.organisation_id,
        "ip_address": event.ip_address,
        "reason": event.reason,
        "details": event.details,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(event.prev_hash.encode() + canonical).hexdigest()


@pytest.mark.obligation("P26")
def test_events_written_with_full_addresses_before_still_verify_with_the_new_ones(db):
    # Given two events as the trail wrote them before, with full addresses
    old = _legacy_event(1, audit.GENESIS, "203.0.113.9")
    _legacy_event(2, old.hash, "")

    # When new events follow them
    audit.record("x", request=RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))

    # Then the whole chain verifies, and tampering with the new fields is still caught
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert audit.verify_chain().checked == 3
    tamper("UPDATE nextsupport_auditevent SET ip_network = '' WHERE sequence = 3", [])
    assert audit.verify_chain().broken_at == 3
