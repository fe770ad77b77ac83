"""TPS/CTPS register files and the 28-day screening rule (P49)."""

import datetime
import io
import random

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from consumers import selectors, services
from consumers.models import Consumer, ContactList, RegisteredNumber, ScreeningRegister
from nextsupport import privacy
from nextsupport.fields import digest
from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone, register_number_e164
from nextsupport.models import AuditEvent
from tests.consumers.conftest import csv_bytes, load_registers, make_list, run_import

TODAY = datetime.date(2026, 3, 2)


def load(kind, *lines, file_date=TODAY):
    return services.screening_register_load(
        kind=kind, file_date=file_date, stream=io.BytesIO("\n".join(lines).encode()), imported_by="test"
    )


@pytest.mark.obligation("P49")
def test_a_register_file_is_loaded_as_blind_indexes_and_deduplicated(db):
    register = load("tps", "number", "01134960000", "01134960000", "07911123456", "", "# end of file", "+44 20 7946 0001")

    assert (register.status, register.numbers, register.unreadable_lines) == ("current", 3, 2)
    assert selectors.registered_among([digest("phone", "0113 496 0000"), digest("phone", "020 7946 0001")]) == {
        digest("phone", "0113 496 0000"),
        digest("phone", "020 7946 0001"),
    }
    assert privacy.registration_for(RegisteredNumber).rows_for(privacy.Subject(phone="07911 123456")).count() == 1


def test_the_fast_path_for_register_lines_agrees_with_full_validation():
    rng = random.Random(4)
    checked = 0
    while checked < 2000:
        national = rng.choice(["07", "01", "02", "03", "08"]) + "".join(rng.choice("0123456789") for _ in range(9))
        try:
            expected = normalise_phone(national)
        except InvalidPhoneNumber:
            continue
        assert register_number_e164(national) == expected
        checked += 1
    assert register_number_e164("016977 3456") == normalise_phone("016977 3456")  # a ten-digit national number


@pytest.mark.obligation("P49")
def test_a_newer_file_replaces_the_numbers_of_the_old_one(db):
    old = load("tps", "01134960000", file_date=TODAY - datetime.timedelta(days=30))
    new = load("tps", "07911123456")

    old.refresh_from_db()
    assert (old.status, new.status) == ("superseded", "current")
    assert not RegisteredNumber.objects.filter(register=old).exists()
    assert selectors.registered_among([digest("phone", "0113 496 0000")]) == set()
    assert selectors.registered_among([digest("phone", "07911 123456")]) == {digest("phone", "07911 123456")}


def test_an_older_or_future_file_is_refused(db):
    load("ctps", "01134960000")

    with pytest.raises(ValidationError, match="A newer CTPS file"):
        load("ctps", "01134960001", file_date=TODAY - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match=r"The file date is in the future\."):
        load("ctps", "01134960001", file_date=timezone.localdate() + datetime.timedelta(days=1))
    assert ScreeningRegister.objects.count() == 1


def test_the_management_command_loads_a_file(db, tmp_path, capsys):
    path = tmp_path / "tps.txt"
    path.write_text("01134960000\n07911123456\nrubbish\n")

    call_command("load_screening_register", str(path), kind="tps", date=TODAY)

    assert (
        "Telephone Preference Service (TPS) of 02 Mar 2026: 2 numbers loaded, 1 lines were not numbers" in capsys.readouterr().out
    )
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_screening_register", str(tmp_path / "missing.txt"), kind="tps", date=TODAY)


@pytest.fixture
def screened_list(organisation, owner):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        load_registers("01134960000", tps_date=TODAY)
        contact_list = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING)
        run_import(
            contact_list,
            owner,
            csv_bytes(["Phone", "Consent"], ["07911 123456", "01/02/2026"]),
            mapping={"0": "phone", "1": "consent_given_at"},
        )
    contact_list.refresh_from_db()
    return contact_list


@pytest.mark.obligation("P49")
def test_a_marketing_list_may_be_called_for_28_days_after_screening_and_not_a_day_more(screened_list):
    assert screened_list.screened_register_date == TODAY

    with time_machine.travel(datetime.datetime(2026, 3, 30, 8, 0, tzinfo=datetime.UTC)):
        assert selectors.screening_is_current(screened_list)
    with time_machine.travel(datetime.datetime(2026, 3, 31, 10, 0, tzinfo=datetime.UTC)):
        assert not selectors.screening_is_current(screened_list)
        assert "The list has not been screened against the TPS/CTPS in the last 28 days." in (
            selectors.list_unusable_reasons(screened_list)
        )


@pytest.mark.obligation("P49")
def test_screening_today_against_an_old_register_file_is_not_current(organisation, owner):
    load_registers(tps_date=timezone.localdate() - datetime.timedelta(days=40))
    contact_list = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING)
    run_import(
        contact_list,
        owner,
        csv_bytes(["Phone", "Consent"], ["07911 123456", "01/02/2026"]),
        mapping={"0": "phone", "1": "consent_given_at"},
    )
    contact_list.refresh_from_db()

    assert contact_list.screened_at.date() == timezone.now().date()
    assert not selectors.screening_is_current(contact_list)


@pytest.mark.obligation("P49")
def test_re_screening_takes_newly_registered_numbers_off_the_list_and_renews_it(screened_list, owner):
    with time_machine.travel(datetime.datetime(2026, 4, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        assert not selectors.screening_is_current(screened_list)
        load_registers("07911123456", tps_date=datetime.date(2026, 4, 9))

        removed = services.contact_list_screen(contact_list=screened_list, by=owner)

        assert removed == 1
        assert not screened_list.memberships.exists()
        assert screened_list.screened_register_date == datetime.date(2026, 4, 9)
        assert selectors.screening_is_current(screened_list)


@pytest.mark.obligation("P30", "P49")
def test_screening_deletes_people_it_leaves_on_no_list_and_keeps_those_on_another(organisation, owner):
    load_registers()
    offers = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING, name="Offers")
    rows = csv_bytes(["Phone", "Consent"], ["07911 123456", "01/02/2026"], ["020 7946 0001", "01/02/2026"])
    run_import(offers, owner, rows, mapping={"0": "phone", "1": "consent_given_at"})
    run_import(make_list(organisation, owner, name="Service"), owner, csv_bytes(["Phone"], ["020 7946 0001"]))
    load_registers("07911123456", "02079460001")

    removed = services.contact_list_screen(contact_list=offers, by=owner)

    assert removed == 2
    assert not offers.memberships.exists()
    kept = Consumer.objects.get()  # on the service list still; the other one was on no list any more
    assert kept.phone == "+442079460001"
    assert AuditEvent.objects.get(action="contact_list.screened").details == {"removed": 2, "consumers_deleted": 1}


def test_screening_is_refused_without_both_registers_or_for_a_service_list(organisation, owner, service_list):
    # A list made before the rule that refuses one while a register is missing.
    contact_list = ContactList.objects.create(organisation=organisation, name="Offers", purpose=ContactList.Purpose.MARKETING)
    load("tps", "01134960000")

    with pytest.raises(ValidationError, match="none is loaded for: Corporate Telephone Preference Service"):
        services.contact_list_screen(contact_list=contact_list)
    with pytest.raises(ValidationError, match="Only marketing lists"):
        services.contact_list_screen(contact_list=service_list)


def test_customer_service_lists_need_no_screening(service_list):
    assert selectors.screening_is_current(service_list)
