"""The demo campaign of `make run`: launched through the real services, and its simulated calls
show every outcome the portal has to show."""

from django.core.management import call_command

from campaigns.models import Call, Campaign, Recording
from nextsupport import demo_calls
from tests.campaigns.test_calls import dial, play_all


def test_the_demo_campaign_calls_its_people_and_shows_every_outcome(
    settings, db, client, capsys, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    call_command("load_demo_data")
    assert "Demo campaign: 'Boiler service follow-up (demo)' launched with 19 people" in capsys.readouterr().out
    campaign = Campaign.objects.get(name=demo_calls.CAMPAIGN_NAME)
    assert (campaign.state, campaign.record_calls, campaign.contacts.count()) == (Campaign.State.RUNNING, True, 19)

    for _ in range(6):  # the dispatcher's ticks, each followed by the calls it placed
        dial(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            play_all(client)

    outcomes = set(Call.objects.filter(campaign=campaign).values_list("outcome", flat=True))
    assert {"completed_script", "opted_out", "transferred", "voicemail", "abandoned"} <= outcomes
    assert Recording.objects.filter(call__campaign=campaign, status=Recording.Status.STORED).exists()
    campaign.refresh_from_db()
    # The abandoned call comes last, and Ofcom's rate then pauses the campaign.
    assert (campaign.state, campaign.pause_reason) == (Campaign.State.PAUSED, Campaign.PauseReason.ABANDONED_RATE)


def test_loading_the_demo_again_keeps_the_one_campaign(settings, db, capsys):
    settings.DEBUG = True
    call_command("load_demo_data")
    call_command("load_demo_data")

    assert "launched on an earlier run" in capsys.readouterr().out
    assert Campaign.objects.filter(name=demo_calls.CAMPAIGN_NAME).count() == 1
