"""The do-not-call lists: per client and platform-wide, surviving erasure, and the public stop-calls page."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from consumers import selectors, services
from consumers.models import Consumer, ImportJob, PlatformSuppression, Suppression
from nextsupport import privacy
from nextsupport.identifiers import InvalidPhoneNumber
from nextsupport.models import AuditEvent
from tests.consumers.conftest import csv_bytes, make_list, run_import


@pytest.mark.obligation("P40")
def test_a_number_suppressed_for_a_client_is_suppressed_in_any_spelling(organisation, other_organisation):
    services.suppression_add(phone="07911 123456", organisation=organisation, reason="opt_out", source="call_opt_out")

    assert selectors.is_suppressed(organisation=organisation, phone="+44 7911 123456")
    assert selectors.is_suppressed(organisation=organisation, phone="0044 7911 123 456")
    assert not selectors.is_suppressed(organisation=other_organisation, phone="07911 123456")


@pytest.mark.obligation("P40")
def test_a_number_that_asked_nextsupport_is_suppressed_for_every_client(organisation, other_organisation):
    services.suppression_add(phone="07911 123456", reason="opt_out", source="web_opt_out")

    assert selectors.is_suppressed(organisation=organisation, phone="07911123456")
    assert selectors.is_suppressed(organisation=other_organisation, phone="07911123456")


def test_adding_a_number_twice_keeps_the_first_entry_and_audits_once(organisation, owner):
    first = services.suppression_add(
        phone="07911 123456", organisation=organisation, reason="objection", source="dsar", created_by=owner
    )
    again = services.suppression_add(phone="+447911123456", organisation=organisation, reason="opt_out", source="client_request")

    assert first.pk == again.pk and Suppression.objects.get().reason == "objection"
    event = AuditEvent.objects.get(action="suppression.added")
    assert event.details == {"scope": "organisation", "reason": "objection", "source": "dsar"}
    assert event.organisation_id == organisation.pk


def test_something_that_is_not_a_phone_number_cannot_be_suppressed(organisation):
    with pytest.raises(InvalidPhoneNumber):
        services.suppression_add(phone="call me maybe", organisation=organisation, reason="opt_out", source="client_request")
    assert not Suppression.objects.exists()


@pytest.mark.obligation("P30", "P37", "P40")
def test_suppression_survives_erasure_and_blocks_a_later_import(service_list, owner, organisation):
    run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"], ["020 7946 0001", "Bob"]))
    subject = privacy.Subject(phone="07911 123456")

    # A data-subject request erases the person: every registered model, by its own rule.
    for registration in privacy.registrations():
        registration.erase(registration.rows_for(subject))

    assert not Consumer.objects.filter(phone_index__matches="07911123456").exists()
    entry = Suppression.objects.get(organisation=organisation)
    assert (entry.reason, entry.source) == ("erasure", "dsar")

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Ada"]))

    assert (job.created, job.updated, job.suppressed) == (0, 0, 1)
    assert not Consumer.objects.filter(phone_index__matches="07911123456").exists()


def test_the_suppression_entries_are_found_by_a_data_subject_request(organisation):
    services.suppression_add(phone="07911 123456", organisation=organisation, reason="opt_out", source="client_request")
    services.suppression_add(phone="07911 123456", reason="opt_out", source="web_opt_out")

    for model in (Suppression, PlatformSuppression):
        registration = privacy.registration_for(model)
        assert registration.rows_for(privacy.Subject(phone="+447911123456")).count() == 1
        assert registration.erasure == privacy.Action.RETAIN


# --- The public "Stop calls from us" page ---------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_the_stop_calls_page_is_an_accessible_public_form(client, db):
    response = client.get(reverse("stop-calls"))

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("stop-calls") == "/stop-calls/"
    assert "<h1>Stop calls from us</h1>" in html
    assert '<label for="id_phone">Your phone number:</label>' in html
    assert 'type="tel"' in html and 'autocomplete="tel"' in html and 'aria-describedby="id_phone_helptext"' in html
    assert '<main id="main"' in html


@pytest.mark.obligation("P40", "P49")
def test_anyone_can_stop_calls_to_their_number_at_once(client, db, organisation, owner):
    response = client.post(reverse("stop-calls"), {"phone": "07911 123 456"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Done: we will not call your number" in html and "ending <strong>456</strong>" in html
    entry = PlatformSuppression.objects.get()
    assert (entry.reason, entry.source) == ("opt_out", "web_opt_out")
    assert selectors.is_suppressed(organisation=organisation, phone="07911123456")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consumers_platformsuppression")
        assert "7911" not in repr(cursor.fetchone())
    event = AuditEvent.objects.get(action="suppression.added")
    assert "7911" not in repr(event.details) and event.actor_label == "anonymous"

    job = run_import(make_list(organisation, owner), owner, csv_bytes(["Phone"], ["07911123456"]))
    assert job.suppressed == 1


def test_a_mistyped_number_gets_a_clear_error_and_nothing_is_stored(client, db):
    response = client.post(reverse("stop-calls"), {"phone": "0791 123"})

    html = response.content.decode()
    assert "Enter a full UK phone number, like 07911 123456 or 020 7946 0123" in html
    assert 'aria-invalid="true"' in html and 'id="id_phone_error"' in html
    assert 'class="error-summary" role="alert"' in html and 'href="#id_phone"' in html
    assert not PlatformSuppression.objects.exists()


def test_an_empty_submission_asks_for_the_number(client, db):
    html = client.post(reverse("stop-calls"), {"phone": ""}).content.decode()
    assert "This field is required." in html
    assert not PlatformSuppression.objects.exists()


def test_the_stop_calls_form_is_rate_limited_per_address(client, db):
    for n in range(10):
        assert client.post(reverse("stop-calls"), {"phone": f"020 7946 {n:04d}"}).status_code == 200

    response = client.post(reverse("stop-calls"), {"phone": "020 7946 0999"})

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert PlatformSuppression.objects.count() == 10
    other_address = client.post(reverse("stop-calls"), {"phone": "020 7946 0998"}, REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 200


def test_import_problems_never_list_a_suppressed_number(service_list, owner):
    services.suppression_add(phone="07911 123456", reason="opt_out", source="web_opt_out")
    job = run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    assert job.problems.get().value is None
    assert ImportJob.objects.get().suppressed == 1
