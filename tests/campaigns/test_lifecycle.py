"""A campaign from draft to its end: what launching needs, scripts, states, and what ending does (P30)."""

import copy
import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from campaigns import script, services
from campaigns.models import CallerId, Campaign, CampaignContact, ScriptVersion
from consumers.models import Consumer, ContactList
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import draft, imported_list
from tests.consumers.conftest import make_list


@pytest.fixture
def customers(organisation, owner):
    return imported_list(organisation, owner, [("07911 100101", "Ada", "LS1 1AA"), ("07911 100102", "Ben", "M1 1AE")])


def actions(campaign) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(campaign.pk), action__startswith="campaign.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


@pytest.mark.obligation("P11")
def test_launching_a_ready_campaign_makes_everyone_on_its_lists_a_contact(organisation, owner, customers):
    campaign = draft(organisation, owner, [customers])

    campaign = services.campaign_launch(campaign=campaign, by=owner)

    assert campaign.state == Campaign.State.RUNNING
    assert campaign.contacts.filter(state=CampaignContact.State.WAITING).count() == 2
    assert "campaign.launched" in actions(campaign)


def test_a_campaign_with_a_future_start_date_is_scheduled(organisation, owner, customers):
    campaign = draft(organisation, owner, [customers], start_date=datetime.date(2026, 12, 7))

    assert services.campaign_launch(campaign=campaign, by=owner).state == Campaign.State.SCHEDULED


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"caller_id": None}, "Choose a caller ID"),
        ({"transfer_number": None}, "transfer number"),
    ],
)
def test_launch_is_refused_while_something_is_missing_and_nothing_changes(organisation, owner, customers, change, problem):
    campaign = draft(organisation, owner, [customers])
    Campaign.objects.filter(pk=campaign.pk).update(**change)

    with pytest.raises(ValidationError) as refused:
        services.campaign_launch(campaign=campaign, by=owner)

    assert any(problem in message for message in refused.value.messages)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT
    assert not campaign.contacts.exists()


@pytest.mark.obligation("P50")
def test_launch_is_refused_with_a_caller_id_not_yet_verified(organisation, owner, customers):
    campaign = draft(organisation, owner, [customers])
    CallerId.objects.filter(pk=campaign.caller_id_id).update(status=CallerId.Status.PENDING)

    with pytest.raises(ValidationError, match="not verified"):
        services.campaign_launch(campaign=campaign, by=owner)


@pytest.mark.obligation("P19")
def test_launch_is_refused_with_an_unattested_list(organisation, owner):
    unattested = make_list(organisation, owner, attest=False, name="Not attested")
    campaign = draft(organisation, owner, [unattested])

    with pytest.raises(ValidationError, match="lawful basis"):
        services.campaign_launch(campaign=campaign, by=owner)


@pytest.mark.obligation("P49")
def test_a_marketing_launch_is_refused_with_an_unscreened_list(organisation, owner):
    from tests.consumers.conftest import load_registers

    load_registers()
    marketing = make_list(organisation, owner, purpose=ContactList.Purpose.MARKETING, name="Offers")
    campaign = draft(organisation, owner, [marketing], purpose=Campaign.Purpose.MARKETING)

    with pytest.raises(ValidationError, match="screened"):
        services.campaign_launch(campaign=campaign, by=owner)


@pytest.mark.obligation("P17")
@pytest.mark.parametrize(
    ("purpose", "basis", "refused"),
    [
        (Campaign.Purpose.MARKETING, Campaign.LawfulBasis.LEGITIMATE_INTERESTS, True),
        (Campaign.Purpose.MARKETING, Campaign.LawfulBasis.CONSENT, False),
        (Campaign.Purpose.SUPPORT, Campaign.LawfulBasis.CONSENT, True),
        (Campaign.Purpose.SUPPORT, Campaign.LawfulBasis.CONTRACT, False),
    ],
)
def test_each_purpose_rests_on_a_lawful_basis_it_allows(organisation, owner, purpose, basis, refused):
    create = lambda: services.campaign_create(  # noqa: E731
        organisation=organisation, by=owner, name="Calls", purpose=purpose, lawful_basis=basis
    )
    if refused:
        with pytest.raises(ValidationError) as error:
            create()
        assert "lawful_basis" in error.value.message_dict
    else:
        assert create().lawful_basis == basis


@pytest.mark.obligation("P05")
def test_a_campaign_uses_only_lists_of_its_own_purpose_and_organisation(
    organisation, owner, other_organisation, outsider, customers
):
    theirs = make_list(other_organisation, outsider, name="Theirs")
    with pytest.raises(ValidationError, match="own contact lists"):
        draft(organisation, owner, [theirs])
    with pytest.raises(ValidationError, match="marketing"):
        draft(organisation, owner, [customers], purpose=Campaign.Purpose.MARKETING)


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"window_start": datetime.time(7, 30)}, "window_start"),
        ({"window_end": datetime.time(21, 30)}, "window_end"),
    ],
)
def test_a_marketing_window_outside_8_to_9pm_is_refused(organisation, owner, window, field):
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(
            organisation=organisation,
            by=owner,
            name="Offers",
            purpose=Campaign.Purpose.MARKETING,
            lawful_basis=Campaign.LawfulBasis.CONSENT,
            **window,
        )
    assert field in refused.value.message_dict
    assert not Campaign.objects.exists()


def test_a_premium_rate_transfer_number_is_refused(organisation, owner):
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(
            organisation=organisation,
            by=owner,
            name="Calls",
            purpose=Campaign.Purpose.SUPPORT,
            lawful_basis=Campaign.LawfulBasis.CONTRACT,
            transfer_number="0906 123 4567",
        )
    assert "premium" in refused.value.message_dict["transfer_number"][0]


@pytest.mark.obligation("P52")
def test_a_script_that_claims_to_be_a_person_is_refused_and_nothing_is_saved(organisation, owner, customers):
    campaign = draft(organisation, owner, [customers])
    bad = copy.deepcopy(script.EXAMPLE)
    bad["greeting"] = "Hi, I'm a real person from the energy company."

    with pytest.raises(ValidationError) as refused:
        services.script_version_save(campaign=campaign, content=bad, by=owner)

    assert "greeting" in refused.value.message_dict
    assert campaign.script_versions.count() == 1


def test_every_script_change_is_a_new_version_and_a_running_campaign_keeps_its_own(organisation, owner, customers):
    campaign = services.campaign_launch(campaign=draft(organisation, owner, [customers]), by=owner)
    changed = copy.deepcopy(script.EXAMPLE)
    changed["closing"] = "Thanks, and goodbye."

    with pytest.raises(ValidationError, match="Pause the campaign"):
        services.script_version_save(campaign=campaign, content=changed, by=owner)
    services.campaign_pause(campaign=campaign, by=owner)
    version = services.script_version_save(campaign=campaign, content=changed, by=owner)

    campaign.refresh_from_db()
    assert (version.number, campaign.script_version) == (2, version)
    assert ScriptVersion.objects.get(campaign=campaign, number=1).content["closing"] != "Thanks, and goodbye."
    with pytest.raises(PermissionError):
        version.save()


def test_a_running_campaign_changes_only_its_name_pace_and_end(campaign, owner):
    services.campaign_update(campaign=campaign, changes={"name": "Renamed", "max_concurrent_calls": 2}, by=owner)

    with pytest.raises(ValidationError, match="Pause the campaign to change record calls"):
        services.campaign_update(campaign=campaign, changes={"record_calls": True}, by=owner)
    campaign.refresh_from_db()
    assert (campaign.name, campaign.max_concurrent_calls, campaign.record_calls) == ("Renamed", 2, False)


@pytest.mark.obligation("P16")
def test_automated_decisions_are_off_and_need_a_recorded_reason(campaign, owner):
    assert campaign.automated_decisions is False
    with pytest.raises(ValidationError):
        services.campaign_set_automated_decisions(campaign=campaign, enabled=True, reason="because", by=owner)

    services.campaign_set_automated_decisions(
        campaign=campaign, enabled=True, reason="Eligibility for the hardship fund is decided from the answers.", by=owner
    )

    campaign.refresh_from_db()
    assert campaign.automated_decisions and campaign.automated_decisions_set_by == owner
    assert "hardship" in campaign.automated_decisions_reason
    assert AuditEvent.objects.filter(action="campaign.automated_decisions_changed", target_id=str(campaign.pk)).exists()


@pytest.mark.obligation("P26")
def test_every_state_change_is_audited(campaign, owner):
    services.campaign_pause(campaign=campaign, by=owner)
    services.campaign_resume(campaign=campaign, by=owner)
    services.campaign_cancel(campaign=campaign, by=owner)

    assert actions(campaign)[-4:] == ["campaign.launched", "campaign.paused", "campaign.resumed", "campaign.cancelled"]


@pytest.mark.obligation("P30")
def test_the_last_campaign_using_a_list_releases_it_when_it_ends(organisation, owner, customers):
    first = services.campaign_launch(campaign=draft(organisation, owner, [customers]), by=owner)
    second = services.campaign_launch(campaign=draft(organisation, owner, [customers], name="Second"), by=owner)

    services.campaign_cancel(campaign=first, by=owner)
    customers.refresh_from_db()
    assert customers.released_at is None  # still in use by the second

    services.campaign_cancel(campaign=second, by=owner)
    customers.refresh_from_db()
    assert customers.released_at is not None
    assert not Consumer.objects.filter(memberships__contact_list=customers, released_at__isnull=True).exists()


@pytest.mark.obligation("P30")
def test_a_released_list_used_again_stops_its_retention_clock(organisation, owner, customers):
    services.campaign_cancel(
        campaign=services.campaign_launch(campaign=draft(organisation, owner, [customers]), by=owner), by=owner
    )

    services.campaign_launch(campaign=draft(organisation, owner, [customers], name="Again"), by=owner)

    customers.refresh_from_db()
    assert customers.released_at is None
    assert not Consumer.objects.filter(memberships__contact_list=customers, released_at__isnull=False).exists()


def test_suspending_an_organisation_pauses_its_campaigns_at_once(campaign, compliance_officer):
    account_services.organisation_suspend(
        organisation=campaign.organisation, by=compliance_officer, reason="Complaint under review", request=None
    )

    campaign.refresh_from_db()
    assert (campaign.state, campaign.pause_reason) == (Campaign.State.PAUSED, Campaign.PauseReason.ORGANISATION)


def test_closing_an_organisation_cancels_its_campaigns(campaign, owner):
    account_services.organisation_close(organisation=campaign.organisation, by=owner, reason="Leaving", request=None)

    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CANCELLED
    assert campaign.ended_at is not None


def test_a_resumed_campaign_picks_up_people_added_to_its_lists(campaign, owner, organisation):
    from tests.consumers.conftest import csv_bytes, run_import

    services.campaign_pause(campaign=campaign, by=owner)
    contact_list = campaign.contact_lists.get()
    run_import(contact_list, owner, csv_bytes(["Phone"], ["07911 100199"]))

    services.campaign_resume(campaign=campaign, by=owner)

    assert campaign.contacts.count() == 4


def test_a_caller_id_in_use_cannot_be_removed(campaign, owner):
    with pytest.raises(ValidationError, match="not ended"):
        services.caller_id_remove(caller_id=campaign.caller_id, by=owner)


def test_transfer_numbers_are_stored_encrypted(campaign):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT transfer_number FROM campaigns_campaign WHERE id = %s", [campaign.pk])
        stored = bytes(cursor.fetchone()[0])
    assert b"7946" not in stored and b"0999" not in stored
    assert campaign.transfer_number == "+442079460999"  # TRANSFER, as stored
