"""The pre-call gate: one test per reason it refuses, and a fixed number of queries per batch."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from campaigns import gate, services
from campaigns.models import Call, CallerId, Campaign, CampaignContact, GateReason
from consumers import services as consumer_services
from consumers.models import ConsentRecord, Consumer, ListMembership
from tests.campaigns.conftest import LONDON, TUESDAY_10AM, launched
from tests.consumers.conftest import load_registers


def contacts_of(campaign):
    return list(CampaignContact.objects.filter(campaign=campaign).select_related("consumer", "campaign").order_by("pk"))


def decision_for(campaign, *, at=TUESDAY_10AM, index=0):
    campaign.refresh_from_db()
    contacts = contacts_of(campaign)
    return gate.decide(campaign, contacts, now=at)[index]


def ended_call(campaign, contact, *, ended, **fields):
    return Call.objects.create(
        organisation=campaign.organisation,
        campaign=campaign,
        contact=contact,
        consumer=contact.consumer,
        phone_index=contact.consumer.phone_index,
        attempt=1,
        script_version=campaign.script_version,
        decided_at=ended,
        provider="simulator",
        status=Call.Status.COMPLETED,
        ended_at=ended,
        answered_at=ended - datetime.timedelta(minutes=1),
        **fields,
    )


def test_a_running_campaign_with_a_ready_list_allows_the_call(campaign):
    assert all(d.allowed for d in gate.decide(campaign, contacts_of(campaign), now=TUESDAY_10AM))


@pytest.mark.obligation("P19")
def test_refused_when_the_organisation_may_not_launch_calls(campaign):
    Organisation.objects.filter(pk=campaign.organisation_id).update(onboarding_status=Organisation.Onboarding.PENDING)
    campaign.organisation.refresh_from_db()

    decision = decision_for(campaign)

    assert (decision.reason, decision.final) == (GateReason.ORGANISATION_BLOCKED, False)
    assert "approved" in decision.message


def test_refused_when_the_campaign_is_not_running(campaign, owner):
    services.campaign_pause(campaign=campaign, by=owner)

    assert decision_for(campaign).reason == GateReason.CAMPAIGN_NOT_RUNNING


def test_refused_after_the_campaign_end_date(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(end_date=datetime.date(2026, 11, 30))

    assert decision_for(campaign).reason == GateReason.CAMPAIGN_NOT_RUNNING


@pytest.mark.obligation("P50")
def test_refused_when_the_caller_id_is_not_verified(campaign):
    CallerId.objects.filter(pk=campaign.caller_id_id).update(status=CallerId.Status.FAILED)

    assert decision_for(campaign).reason == GateReason.CALLER_ID_UNVERIFIED


def test_refused_when_every_attempt_has_been_made(campaign):
    CampaignContact.objects.filter(campaign=campaign).update(attempts=campaign.max_attempts)

    decision = decision_for(campaign)

    assert (decision.reason, decision.final) == (GateReason.ATTEMPTS_EXHAUSTED, True)


@pytest.mark.obligation("P05")
def test_refused_for_someone_no_longer_on_the_campaigns_lists(campaign):
    contact = contacts_of(campaign)[0]
    ListMembership.objects.filter(consumer=contact.consumer).delete()

    assert decision_for(campaign).reason == GateReason.NOT_ON_LIST


@pytest.mark.obligation("P38")
def test_refused_while_processing_is_restricted(campaign, owner):
    consumer_services.consumer_restrict(consumer=contacts_of(campaign)[0].consumer, by=owner, reason="Disputes the debt")

    decision = decision_for(campaign)

    assert (decision.reason, decision.final) == (GateReason.STOPPED, True)


@pytest.mark.obligation("P40")
@pytest.mark.parametrize("scope", ["organisation", "platform"])
def test_refused_for_a_number_on_a_do_not_call_list(campaign, scope):
    consumer = contacts_of(campaign)[0].consumer
    consumer_services.suppression_add(
        phone_index=consumer.phone_index,
        organisation=campaign.organisation if scope == "organisation" else None,
        reason="opt_out",
        source="web_opt_out",
    )

    assert decision_for(campaign).reason == GateReason.SUPPRESSED


@pytest.mark.obligation("P49")
def test_marketing_refused_for_a_number_registered_with_the_tps(marketing_campaign):
    load_registers("07911 100101")

    assert decision_for(marketing_campaign).reason == GateReason.TPS_REGISTERED


@pytest.mark.obligation("P18")
def test_marketing_refused_without_current_consent_to_automated_calls(marketing_campaign):
    consumer = contacts_of(marketing_campaign)[0].consumer
    consumer_services.consent_withdraw(consumer=consumer, purpose=ConsentRecord.Purpose.AUTOMATED_CALLS, method="verbal")

    decision = decision_for(marketing_campaign, at=datetime.datetime.now(tz=LONDON))

    assert (decision.reason, decision.final) == (GateReason.NO_CONSENT, True)
    assert "automated" in decision.message


@pytest.mark.obligation("P18", "P05")
def test_consent_given_to_another_client_does_not_count(marketing_campaign, other_organisation, outsider):
    consumer = contacts_of(marketing_campaign)[0].consumer
    # The person's consent to this client is withdrawn; another client holds consent for the same number.
    consumer_services.consent_withdraw(consumer=consumer, purpose=ConsentRecord.Purpose.AUTOMATED_CALLS, method="verbal")
    elsewhere = Consumer.objects.create(organisation=other_organisation, phone=consumer.phone)
    consumer_services.consent_record(
        consumer=elsewhere,
        purpose=ConsentRecord.Purpose.AUTOMATED_CALLS,
        method="web_form",
        occurred_at=datetime.datetime.now(tz=LONDON),
        wording="Yes, call me",
    )

    assert decision_for(marketing_campaign, at=datetime.datetime.now(tz=LONDON)).reason == GateReason.NO_CONSENT


@pytest.mark.obligation("P49")
def test_marketing_refused_when_the_screening_is_older_than_28_days(marketing_campaign, tuesday_morning):
    later = TUESDAY_10AM + datetime.timedelta(days=29)
    tuesday_morning.move_to(later)

    decision = decision_for(marketing_campaign, at=later)

    assert (decision.reason, decision.final) == (GateReason.SCREENING_STALE, False)


@pytest.mark.obligation("P49")
def test_the_72_hour_rule_after_an_abandoned_call(campaign):
    contact = contacts_of(campaign)[0]
    ended_call(campaign, contact, ended=TUESDAY_10AM - datetime.timedelta(hours=70), outcome=Call.Outcome.ABANDONED)

    refused = decision_for(campaign)
    allowed = decision_for(campaign, at=TUESDAY_10AM + datetime.timedelta(hours=2, minutes=1))

    assert refused.reason == GateReason.RECENT_ABANDONED
    assert refused.retry_at == TUESDAY_10AM + datetime.timedelta(hours=2)
    assert allowed.allowed


def test_the_24_hour_rule_after_an_answering_machine(campaign):
    contact = contacts_of(campaign)[0]
    ended_call(campaign, contact, ended=TUESDAY_10AM - datetime.timedelta(hours=23), answered_by="machine_end_beep")

    assert decision_for(campaign).reason == GateReason.RECENT_MACHINE
    assert decision_for(campaign, at=TUESDAY_10AM + datetime.timedelta(hours=1, minutes=1)).allowed


def test_the_72_hour_rule_counts_the_clients_other_campaigns(campaign, organisation, owner):
    other = launched(organisation, owner, numbers=["07911 100101"], name="Second campaign")
    contact = contacts_of(other)[0]
    ended_call(other, contact, ended=TUESDAY_10AM - datetime.timedelta(hours=1), outcome=Call.Outcome.ABANDONED)

    assert decision_for(campaign).reason == GateReason.RECENT_ABANDONED


@pytest.mark.parametrize(
    "local_time",
    [
        datetime.datetime(2026, 12, 1, 8, 59, tzinfo=LONDON),  # before 09:00
        datetime.datetime(2026, 12, 1, 20, 0, tzinfo=LONDON),  # from 20:00
        datetime.datetime(2026, 12, 6, 11, 0, tzinfo=LONDON),  # a Sunday
        datetime.datetime(2026, 12, 25, 11, 0, tzinfo=LONDON),  # Christmas Day
    ],
)
def test_refused_outside_the_calling_window(campaign, local_time):
    decision = decision_for(campaign, at=local_time)

    assert (decision.reason, decision.final) == (GateReason.OUTSIDE_WINDOW, False)
    assert decision.retry_at > local_time


def test_the_window_is_the_persons_own_local_time(campaign):
    consumer = contacts_of(campaign)[0].consumer
    consumer.timezone = "America/New_York"
    consumer.save()

    # 10:00 in London is 05:00 in New York: too early there; 14:00 in London is 09:00 there.
    assert decision_for(campaign).reason == GateReason.OUTSIDE_WINDOW
    assert decision_for(campaign, at=datetime.datetime(2026, 12, 1, 14, 0, tzinfo=LONDON)).allowed


def test_bank_holidays_follow_the_persons_nation(campaign):
    # 30 November 2026 is St Andrew's Day: a bank holiday in Scotland only.
    st_andrews_day = datetime.datetime(2026, 11, 30, 11, 0, tzinfo=LONDON)
    scottish = contacts_of(campaign)[0].consumer
    scottish.postcode = "EH1 1YZ"
    scottish.save()
    campaign.refresh_from_db()

    decisions = {d.contact_id: d for d in gate.decide(campaign, contacts_of(campaign), now=st_andrews_day)}
    by_postcode = {c.consumer.postcode: decisions[c.pk] for c in contacts_of(campaign)}

    assert by_postcode["EH1 1YZ"].reason == GateReason.OUTSIDE_WINDOW
    assert by_postcode["LS1 1AA"].allowed


def test_an_unknown_nation_avoids_every_uk_bank_holiday(campaign):
    consumer = contacts_of(campaign)[0].consumer
    consumer.postcode = None
    consumer.save()

    st_andrews_day = datetime.datetime(2026, 11, 30, 11, 0, tzinfo=LONDON)

    assert decision_for(campaign, at=st_andrews_day).reason == GateReason.OUTSIDE_WINDOW


def test_a_permanent_refusal_outranks_a_passing_one(campaign):
    consumer = contacts_of(campaign)[0].consumer
    consumer_services.suppression_add(
        phone_index=consumer.phone_index, organisation=campaign.organisation, reason="opt_out", source="web_opt_out"
    )

    sunday = datetime.datetime(2026, 12, 6, 11, 0, tzinfo=LONDON)

    assert decision_for(campaign, at=sunday).reason == GateReason.SUPPRESSED


def _queries_to_decide(campaign, contacts) -> int:
    with CaptureQueriesContext(connection) as queries:
        gate.decide(campaign, contacts, now=TUESDAY_10AM)
    return len(queries)


@pytest.mark.parametrize("purpose", [Campaign.Purpose.SUPPORT, Campaign.Purpose.MARKETING])
def test_a_batch_costs_the_same_queries_as_one_contact(organisation, owner, purpose):
    numbers = [f"07911 1002{i:02d}" for i in range(40)]
    campaign = launched(organisation, owner, numbers=numbers, purpose=purpose)
    campaign = Campaign.objects.select_related("organisation", "caller_id").get(pk=campaign.pk)
    contacts = contacts_of(campaign)

    one, forty = _queries_to_decide(campaign, contacts[:1]), _queries_to_decide(campaign, contacts)

    assert one == forty
    assert forty <= 10
