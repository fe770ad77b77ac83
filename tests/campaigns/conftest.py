"""Campaigns ready to call, for the campaigns tests.

`launched(...)` builds what a client would have before launching: a list
attested and imported through the real import, a verified caller ID, a
transfer number and a saved script; then launches it through the service.
Times in these tests are fixed (time_machine) to an ordinary Tuesday morning
in London, so the calling window is open unless a test says otherwise.
"""

import datetime
import zoneinfo

import pytest
import time_machine

from campaigns import script, services
from campaigns.models import CallerId, Campaign
from consumers.models import ContactList
from tests.consumers.conftest import csv_bytes, load_registers, make_list, run_import

LONDON = zoneinfo.ZoneInfo("Europe/London")
# Tuesday 1 December 2026, 10:00 in London: a working day inside every default window.
TUESDAY_10AM = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=LONDON)
NUMBERS = ["07911 100101", "07911 100102", "07911 100103"]
TRANSFER = "020 7946 0999"
CALLER_ID = "020 7946 0000"


@pytest.fixture(autouse=True)
def tuesday_morning():
    with time_machine.travel(TUESDAY_10AM, tick=True) as traveller:
        yield traveller


def verified_caller_id(organisation, number=CALLER_ID) -> CallerId:
    existing = CallerId.objects.filter(organisation=organisation, number_index__matches=number).first()
    return existing or CallerId.objects.create(
        organisation=organisation, number=number, label="Customer line", provider="simulator", status=CallerId.Status.VERIFIED
    )


def imported_list(
    organisation, owner, rows, *, purpose=ContactList.Purpose.SERVICE, name="Customers", header=("Phone", "Name", "Postcode")
):
    contact_list = make_list(organisation, owner, purpose=purpose, name=name)
    if purpose == ContactList.Purpose.MARKETING:
        header = (*header, "Consent date")
        rows = [(*row, "01/11/2026") for row in rows]
    mapping = None
    if purpose == ContactList.Purpose.MARKETING:
        mapping = {str(i): t for i, t in enumerate(["phone", "name", "postcode", "consent_given_at"][: len(header)])}
    run_import(contact_list, owner, csv_bytes(header, *rows), mapping=mapping)
    contact_list.refresh_from_db()
    if purpose == ContactList.Purpose.MARKETING:
        from consumers import services as consumer_services

        consumer_services.contact_list_screen(contact_list=contact_list, by=owner)
        contact_list.refresh_from_db()
    return contact_list


def draft(organisation, owner, contact_lists, *, purpose=Campaign.Purpose.SUPPORT, content=None, **settings) -> Campaign:
    basis = Campaign.LawfulBasis.CONSENT if purpose == Campaign.Purpose.MARKETING else Campaign.LawfulBasis.CONTRACT
    fields = {
        "name": "Boiler service follow-up",
        "purpose": purpose,
        "lawful_basis": basis,
        "caller_id": verified_caller_id(organisation),
        "transfer_number": TRANSFER,
        **settings,
    }
    campaign = services.campaign_create(organisation=organisation, by=owner, contact_lists=contact_lists, **fields)
    services.script_version_save(campaign=campaign, content=content or script.EXAMPLE, by=owner)
    campaign.refresh_from_db()
    return campaign


def launched(organisation, owner, *, numbers=NUMBERS, purpose=Campaign.Purpose.SUPPORT, **settings) -> Campaign:
    list_purpose = ContactList.Purpose.MARKETING if purpose == Campaign.Purpose.MARKETING else ContactList.Purpose.SERVICE
    if purpose == Campaign.Purpose.MARKETING:
        load_registers()
    rows = [(number, f"Person {i}", "LS1 1AA") for i, number in enumerate(numbers)]
    list_name = f"Customers for {settings.get('name', 'Boiler service follow-up')}"
    contact_list = imported_list(organisation, owner, rows, purpose=list_purpose, name=list_name)
    campaign = draft(organisation, owner, [contact_list], purpose=purpose, **settings)
    return services.campaign_launch(campaign=campaign, by=owner)


@pytest.fixture
def campaign(organisation, owner):
    return launched(organisation, owner)


@pytest.fixture
def marketing_campaign(organisation, owner):
    return launched(organisation, owner, purpose=Campaign.Purpose.MARKETING, name="Winter tariff offer")
