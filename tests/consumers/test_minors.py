"""Children (P48): rows of people under 16 are never stored; a consumer found to be under 16 is deleted at once."""

import datetime

import pytest

from consumers import selectors, services
from consumers.models import ConsentRecord, Consumer, ImportProblem, ListMembership, PlatformSuppression
from nextsupport.models import AuditEvent
from tests.consumers.conftest import csv_bytes, run_import, years_ago


@pytest.mark.parametrize(
    ("born", "today", "under_16"),
    [
        (datetime.date(2010, 6, 15), datetime.date(2026, 6, 15), False),  # sixteenth birthday
        (datetime.date(2010, 6, 15), datetime.date(2026, 6, 14), True),
        (datetime.date(2008, 2, 29), datetime.date(2024, 2, 28), True),  # leap-day birthday, non-leap year after 16
        (datetime.date(2008, 2, 29), datetime.date(2024, 2, 29), False),
        (datetime.date(2009, 2, 28), datetime.date(2025, 3, 1), False),
        (None, datetime.date(2026, 1, 1), False),
    ],
)
def test_the_one_rule_for_under_16(born, today, under_16):
    assert selectors.is_under_16(born, today=today) is under_16


@pytest.mark.obligation("P48")
def test_a_row_of_someone_under_16_is_counted_but_nothing_of_it_is_stored(service_list, owner):
    child_born = years_ago(16, days=-1)  # sixteen tomorrow
    job = run_import(
        service_list,
        owner,
        csv_bytes(
            ["Phone", "Name", "DOB"], ["07911 123456", "Child Name", child_born], ["020 7946 0001", "Adult", years_ago(16)]
        ),
    )

    assert (job.created, job.rejected, job.minors) == (1, 1, 1)
    problem = ImportProblem.objects.get()
    assert (problem.row_number, problem.column, problem.value) == (2, "DOB", None)
    assert problem.reason == "Under 16: we never hold data of people under 16. The row was not imported."
    assert not Consumer.objects.filter(phone_index__matches="07911123456").exists()
    assert Consumer.objects.get().name == "Adult"


@pytest.mark.obligation("P48")
def test_a_consumer_found_to_be_under_16_is_deleted_leaving_only_a_suppression_entry(service_list, owner, organisation):
    run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Sam"]))
    sam = Consumer.objects.get()
    services.consent_record(
        consumer=sam, purpose="marketing_calls", method="paper", occurred_at=sam.created_at, wording_version="v1"
    )

    services.consumer_delete_under_16(consumer=sam, by=owner)

    assert not Consumer.objects.exists()
    assert not ListMembership.objects.exists()
    assert not ConsentRecord._base_manager.exists()
    entry = PlatformSuppression.objects.get()
    assert (entry.reason, entry.source) == ("under_16", "client_request")
    assert AuditEvent.objects.filter(action="consumer.deleted_under_16", details={"consumer_id": sam.pk}).exists()

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Sam"]))
    assert (job.created, job.suppressed) == (0, 1)


@pytest.mark.obligation("P48")
def test_a_later_file_showing_an_existing_consumer_is_under_16_deletes_them(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Sam"], ["020 7946 0001", "Bob"]))

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name", "Date of birth"], ["+447911123456", "Sam", years_ago(12)]))

    assert job.minors == 1
    assert list(Consumer.objects.values_list("name", flat=True)) == ["Bob"]
    assert PlatformSuppression.objects.get().reason == "under_16"


def test_a_child_in_one_clients_list_is_blocked_for_every_client(service_list, owner, other_organisation):
    run_import(service_list, owner, csv_bytes(["Phone"], ["07911 123456"]))
    services.consumer_delete_under_16(consumer=Consumer.objects.get(), by=owner)

    assert selectors.is_suppressed(organisation=other_organisation, phone="07911 123456")


@pytest.mark.obligation("P48")
def test_a_child_rejected_at_import_stays_blocked_when_the_number_comes_back_without_a_date_of_birth(service_list, owner):
    run_import(service_list, owner, csv_bytes(["Phone", "Name", "DOB"], ["07911 123456", "Child Name", years_ago(12)]))

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name"], ["07911 123456", "Child Name"]))

    assert (job.created, job.suppressed) == (0, 1)
    assert not Consumer.objects.exists()
    assert PlatformSuppression.objects.get().reason == "under_16"


@pytest.mark.obligation("P48")
@pytest.mark.parametrize("child_row_first", [True, False], ids=["child row first", "child row last"])
def test_a_row_without_a_date_of_birth_does_not_bring_in_a_child_named_elsewhere_in_the_file(
    service_list, owner, child_row_first
):
    child = ["07911 123456", "Child Name", years_ago(12)]
    same_number = ["+44 7911 123456", "Child Name", ""]
    rows = [child, same_number] if child_row_first else [same_number, child]

    job = run_import(service_list, owner, csv_bytes(["Phone", "Name", "DOB"], *rows, ["020 7946 0001", "Adult", ""]))

    assert (job.created, job.minors) == (1, 1)
    assert list(Consumer.objects.values_list("name", flat=True)) == ["Adult"]
    assert PlatformSuppression.objects.get().reason == "under_16"
    assert "Under 16" in job.problems.get(row_number=3 if child_row_first else 2).reason
