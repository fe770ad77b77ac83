"""The campaigns portal: a client creates, scripts, launches and follows a campaign through its pages, and
each member sees what their role allows (P04, P11, P25)."""

import csv
import datetime
import io
import json
import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse

from accounts.models import Role
from campaigns import script, services
from campaigns.models import Call, CallerId, Campaign, ScriptVersion
from campaigns.telephony import simulator
from campaigns.telephony.simulator import Persona, example_number
from consumers import services as consumer_services
from consumers.models import ContactList, SuppressionReason, SuppressionSource
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import draft, imported_list, launched
from tests.campaigns.pages import campaign_form, form_data, play_calls, signed_in, text_of, webhooks
from tests.campaigns.test_calls import dial, transport_for
from tests.factories import CallFactory, MembershipFactory, UsageStatementFactory

DISCLOSURE = "Hello, this is an automated AI assistant calling on behalf of Acme Energy Ltd."


def url(name, *args):
    return reverse(f"campaigns:{name}", args=args)


@pytest.fixture
def manager(organisation):
    return MembershipFactory(organisation=organisation, role=Role.CAMPAIGN_MANAGER, user__email="manager@acme.example").user


@pytest.fixture
def service_list(organisation, owner):
    return imported_list(organisation, owner, [("07911 100101", "Ada Lovelace", "LS1 1AA")])


@pytest.fixture
def called(organisation, owner, django_capture_on_commit_callbacks):
    """A recording campaign whose calls have run: one person completed the script, one said stop, one was busy."""
    numbers = [example_number(p) for p in (Persona.COOPERATIVE, Persona.STOP, Persona.BUSY)]
    campaign = launched(organisation, owner, numbers=numbers, record_calls=True, max_concurrent_calls=10)
    dial(django_capture_on_commit_callbacks)
    play_calls(django_capture_on_commit_callbacks)
    return campaign


def events(action):
    return AuditEvent.objects.filter(action=action)


# --- Create, edit, launch, pause, resume, cancel --------------------------------------------


@pytest.mark.obligation("P11", "P17")
def test_a_client_creates_scripts_launches_pauses_resumes_and_cancels_a_campaign_through_the_pages(
    organisation, owner, service_list
):
    # Given an owner with an imported list and a verified caller ID
    browser = signed_in(owner)

    # When they create the campaign, write its script and launch it
    created = browser.post(url("new", organisation.pk), campaign_form(organisation, [service_list]))
    campaign = Campaign.objects.get(organisation=organisation)
    editor = text_of(browser.post(url("script", organisation.pk, campaign.pk), {"step_count": "0", "action": "example"}))
    saved = browser.post(url("script", organisation.pk, campaign.pk), form_data(editor, button=("action", "save")))
    edited = browser.post(
        url("edit", organisation.pk, campaign.pk), campaign_form(organisation, [service_list], name="Boiler follow-up, winter")
    )
    launched_page = browser.post(url("launch", organisation.pk, campaign.pk), follow=True)

    # Then it runs, with the script as saved and everyone on the list to call
    assert created.status_code == 302 and created["Location"] == url("script", organisation.pk, campaign.pk)
    assert saved.status_code == 302 and edited.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Boiler follow-up, winter"
    assert campaign.lawful_basis == Campaign.LawfulBasis.CONTRACT and not campaign.record_calls
    assert campaign.script_version.content == script.normalised(script.EXAMPLE)
    assert campaign.state == Campaign.State.RUNNING and campaign.contacts.count() == 1
    assert "Launched: the campaign is running." in text_of(launched_page)

    # And pausing, resuming and cancelling (after its confirmation page) follow the same way
    browser.post(url("pause", organisation.pk, campaign.pk))
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.PAUSED
    browser.post(url("resume", organisation.pk, campaign.pk))
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.RUNNING
    confirmation = browser.get(url("cancel", organisation.pk, campaign.pk))
    assert "Cancel “Boiler follow-up, winter”?" in text_of(confirmation)
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.RUNNING  # asking changes nothing
    browser.post(url("cancel", organisation.pk, campaign.pk))
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.CANCELLED
    actions = set(AuditEvent.objects.filter(target_id=str(campaign.pk)).values_list("action", flat=True))
    assert {"campaign.created", "campaign.script_saved", "campaign.updated", "campaign.launched"} <= actions
    assert {"campaign.paused", "campaign.resumed", "campaign.cancelled"} <= actions


@pytest.mark.obligation("P17")
def test_a_marketing_campaign_on_another_basis_than_consent_is_refused_on_the_field(organisation, owner, service_list):
    browser = signed_in(owner)

    response = browser.post(
        url("new", organisation.pk),
        campaign_form(organisation, [], purpose=Campaign.Purpose.MARKETING, lawful_basis=Campaign.LawfulBasis.CONTRACT),
    )

    page = text_of(response)
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert re.search(r'id="id_lawful_basis_error"[^>]*>.*?rests on Consent \(P17\)', page, re.S)
    assert "Lawful basis for the calls: A lead generation and marketing campaign rests on Consent (P17)." in page


@pytest.mark.obligation("P05")
def test_a_list_of_the_other_purpose_and_hours_outside_the_law_are_refused_on_their_fields(organisation, owner, service_list):
    browser = signed_in(owner)

    response = browser.post(
        url("new", organisation.pk),
        campaign_form(
            organisation,
            [service_list],
            purpose=Campaign.Purpose.MARKETING,
            lawful_basis=Campaign.LawfulBasis.CONSENT,
            window_start="07:30",
        ),
    )

    page = text_of(response)
    assert not Campaign.objects.exists()
    assert "Marketing calls may not start before 08:00 in the person&#x27;s local time." in page
    response = browser.post(
        url("new", organisation.pk),
        campaign_form(
            organisation, [service_list], purpose=Campaign.Purpose.MARKETING, lawful_basis=Campaign.LawfulBasis.CONSENT
        ),
    )
    assert "is a customer service calls list; a lead generation and marketing campaign uses marketing calls lists" in text_of(
        response
    )
    assert not Campaign.objects.exists()


def test_a_running_campaign_changes_only_its_name_pace_and_end_date(organisation, owner, campaign):
    browser = signed_in(owner)
    page = text_of(browser.get(url("edit", organisation.pk, campaign.pk)))

    data = form_data(page)  # the form's fields as the browser sends them: the disabled ones are left out
    data.update(name=["Renamed while running"], max_concurrent_calls=["2"], window_end=["21:00"])
    browser.post(url("edit", organisation.pk, campaign.pk), data)

    campaign.refresh_from_db()
    assert (campaign.name, campaign.max_concurrent_calls) == ("Renamed while running", 2)
    assert campaign.window_end == datetime.time(20, 0)  # shown disabled: the browser does not send it, the server keeps it
    assert re.search(r'name="window_end"[^>]*disabled', page)


@pytest.mark.obligation("P11")
def test_a_refused_launch_shows_every_problem_and_changes_nothing(organisation, owner, service_list):
    # Given a draft with no caller ID, no transfer number and no script
    campaign = services.campaign_create(
        organisation=organisation,
        by=owner,
        contact_lists=[service_list],
        name="Half ready",
        purpose=Campaign.Purpose.SUPPORT,
        lawful_basis=Campaign.LawfulBasis.CONTRACT,
    )
    browser = signed_in(owner)
    before = events("campaign.launched").count()

    # When the client tries to launch it anyway
    response = browser.post(url("launch", organisation.pk, campaign.pk))

    # Then every problem is listed, and nothing changed
    page = text_of(response)
    assert "The campaign was not launched" in page and "Nothing was changed." in page
    for problem in services.launch_problems(campaign):
        assert problem.replace("'", "&#x27;") in page
    assert len(services.launch_problems(campaign)) == 3
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not campaign.contacts.exists()
    assert events("campaign.launched").count() == before
    # The campaign's page says the same before anyone presses anything, and offers no Launch button.
    detail = text_of(browser.get(url("detail", organisation.pk, campaign.pk)))
    assert "Before this campaign can launch" in detail and ">Launch</button>" not in detail


# --- Live progress ----------------------------------------------------------------------------


@pytest.mark.obligation("P06")
def test_the_live_progress_follows_the_calls_and_says_why_people_were_not_called(
    organisation, owner, teammate, django_capture_on_commit_callbacks
):
    numbers = [example_number(Persona.COOPERATIVE), example_number(Persona.STOP), example_number(Persona.COOPERATIVE, 1)]
    campaign = launched(organisation, owner, numbers=numbers, max_concurrent_calls=10)
    consumer_services.suppression_add(
        phone=numbers[2], organisation=organisation, reason=SuppressionReason.OPT_OUT, source=SuppressionSource.CLIENT_REQUEST
    )
    browser = signed_in(teammate)  # a viewer follows it too
    before = browser.get(url("progress", organisation.pk, campaign.pk)).json()

    dial(django_capture_on_commit_callbacks)
    play_calls(django_capture_on_commit_callbacks)
    after = browser.get(url("progress", organisation.pk, campaign.pk))

    figures = after.json()
    assert after["Cache-Control"].startswith("max-age=0")
    assert before["calls"]["dialled"] == 0 and before["contacts"]["waiting"] == 3
    assert figures["calls"]["dialled"] == 2 and figures["calls"]["connected"] == 2
    assert (figures["calls"]["completed"], figures["calls"]["opted_out"]) == (1, 1)
    assert figures["refused"] == 1
    assert figures["gate_reasons"] == [{"code": "suppressed", "label": "On a do-not-call list", "count": 1}]
    assert figures["abandoned_rate"]["rate"] == 0 and figures["abandoned_rate"]["limit"] == 0.03
    assert figures["state_label"] == "Running" and figures["live"] is True


def test_the_campaign_page_polls_its_figures_and_draws_its_charts_with_tables_for_screen_readers(organisation, owner, called):
    page = text_of(signed_in(owner).get(url("detail", organisation.pk, called.pk)))

    assert f'data-url="{url("progress", organisation.pk, called.pk)}" data-live="true"' in page
    assert '<dd data-figure="calls.dialled">3</dd>' in page
    assert '<svg class="chart-svg"' in page and 'aria-hidden="true"' in page
    assert "<caption>Calls ended per hour, by outcome</caption>" in page
    assert re.search(r"<th scope=\"row\">10:00</th><td>1</td><td>1</td><td>1</td><td>3</td>", page)
    assert '<noscript><meta http-equiv="refresh"' in page  # without JavaScript, the page reloads instead
    assert "https://" not in re.sub(r'href="https://ico.org.uk[^"]*"', "", page.split("<main")[1].split("</main>")[0])


def test_a_campaign_paused_for_its_abandoned_rate_says_so(organisation, owner, campaign):
    services.campaign_pause(campaign=campaign, reason=Campaign.PauseReason.ABANDONED_RATE)

    page = text_of(signed_in(owner).get(url("detail", organisation.pk, campaign.pk)))
    figures = signed_in(owner).get(url("progress", organisation.pk, campaign.pk)).json()

    assert "Paused automatically: abandoned-call rate near Ofcom&#x27;s 3% limit" in page
    assert figures["pause_reason"] == "abandoned_rate"


# --- The script editor -----------------------------------------------------------------------


@pytest.mark.obligation("P52", "P07")
def test_the_script_editor_round_trip_saves_a_new_version_and_previews_the_disclosure_first(organisation, owner, service_list):
    # Given a draft that records calls, with the example script as version 1
    campaign = draft(organisation, owner, [service_list], record_calls=True)
    browser = signed_in(owner)
    editor = text_of(browser.get(url("script", organisation.pk, campaign.pk)))

    # When the client changes the closing in the form and saves
    data = form_data(editor, button=("action", "save"))
    data["closing"] = ["Thanks, and have a warm winter."]
    browser.post(url("script", organisation.pk, campaign.pk), data)

    # Then version 2 is the old script with the new closing, and the preview opens with the platform's lines
    version = campaign.script_versions.get(number=2)
    assert version.content == {**script.normalised(script.EXAMPLE), "closing": "Thanks, and have a warm winter."}
    assert Campaign.objects.get(pk=campaign.pk).script_version == version
    page = text_of(browser.get(url("script", organisation.pk, campaign.pk)))
    lines = re.findall(r'<li class="preview-line preview-(\w+)">.*?<q class="preview-text">(.*?)</q>', page, re.S)
    assert lines[0] == ("platform", DISCLOSURE)
    assert lines[1] == ("platform", script.RECORDING_NOTICE)
    assert lines[2][0] == "platform" and "say &#x27;stop&#x27; or press 9" in lines[2][1]
    assert ("client", "Thanks, and have a warm winter.") in lines
    assert page.count("Fixed: not editable") == 5  # disclosure, recording, options, and the stop and person replies
    assert "Version 2" in page and "Version 1" in page


def test_steps_and_answers_are_added_and_removed_by_submitting_without_saving(organisation, owner, service_list):
    campaign = draft(organisation, owner, [service_list])
    browser = signed_in(owner)
    editor = text_of(browser.get(url("script", organisation.pk, campaign.pk)))

    added = text_of(browser.post(url("script", organisation.pk, campaign.pk), form_data(editor, button=("action", "add_step"))))
    with_answer = text_of(
        browser.post(url("script", organisation.pk, campaign.pk), form_data(added, button=("action", "add_answer:2")))
    )
    removed = text_of(
        browser.post(url("script", organisation.pk, campaign.pk), form_data(with_answer, button=("action", "remove_step:0")))
    )

    assert "<legend>Step 3</legend>" in added and 'value="step_3"' in added
    assert "<legend>Step 3, answer 2</legend>" in with_answer
    assert "<legend>Step 3</legend>" not in removed and "<legend>Step 2, answer 2</legend>" in removed
    assert 'value="callback"' in removed and 'value="satisfied"' not in removed
    assert campaign.script_versions.count() == 1  # nothing saved along the way


@pytest.mark.obligation("P52")
def test_script_problems_name_the_step_and_answer_and_nothing_is_saved(organisation, owner, service_list):
    campaign = draft(organisation, owner, [service_list])
    browser = signed_in(owner)
    data = form_data(text_of(browser.get(url("script", organisation.pk, campaign.pk))), button=("action", "save"))
    data["s1-a0-phrases"], data["s1-a0-digit"] = [""], [""]
    data["s0-question"] = ["I am a real person, were you happy with the visit?"]

    response = browser.post(url("script", organisation.pk, campaign.pk), data)

    page = text_of(response)
    assert (
        '<a href="#s1-a0-phrases">Step 2, answer 1 (words that mean it): '
        "Give at least one phrase or a keypad digit that means this answer.</a>"
    ) in page
    assert '<a href="#s0-question">Step 1 (question): The agent is an AI and the call says so first' in page
    assert re.search(r'id="s1-a0-phrases"[^>]*aria-invalid="true"', page)
    assert campaign.script_versions.count() == 1


def test_a_running_campaign_script_is_shown_but_not_editable(organisation, owner, campaign):
    page = text_of(signed_in(owner).get(url("script", organisation.pk, campaign.pk)))

    assert "Pause the campaign</strong> to change its script" in page
    assert 'name="action" value="save"' not in page
    assert DISCLOSURE in page


# --- Results, calls and recordings -----------------------------------------------------------


@pytest.mark.obligation("P06")
def test_results_filter_by_outcome_status_dates_and_answer_and_page(organisation, owner, called, settings, monkeypatch):
    browser = signed_in(owner)
    base = url("results", organisation.pk, called.pk)
    opted_out = Call.objects.get(campaign=called, outcome=Call.Outcome.OPTED_OUT)
    completed = Call.objects.get(campaign=called, outcome=Call.Outcome.COMPLETED_SCRIPT)

    def shown(query):
        return re.findall(r'campaigns/calls/(\d+)/">#', text_of(browser.get(base, query)))

    assert shown({"outcome": "opted_out"}) == [str(opted_out.pk)]
    assert shown({"status": "busy"}) == [str(Call.objects.get(campaign=called, status="busy").pk)]
    assert shown({"response": "satisfied=yes"}) == [str(completed.pk)]
    assert shown({"since": "2026-12-02"}) == []
    assert len(shown({"since": "2026-12-01", "until": "2026-12-01"})) == 3
    assert "The end of the range is before its start." in text_of(
        browser.get(base, {"since": "2026-12-02", "until": "2026-12-01"})
    )
    monkeypatch.setattr("campaigns.views.CALLS_PER_PAGE", 2)
    second = text_of(browser.get(base, {"status": "", "page": "2"}))
    assert "page 2 of 2" in second and len(re.findall(r'campaigns/calls/(\d+)/">#', second)) == 1
    assert 'href="?status=&amp;page=1"' in second


@pytest.mark.obligation("P25", "P04")
def test_a_viewer_sees_counts_outcomes_and_masked_numbers_but_no_names_transcripts_or_answers_heard(
    organisation, teammate, called
):
    # Given calls with names, numbers, transcripts, answers heard and recordings, and a viewer
    CallFactory(
        organisation=organisation, campaign=called, script_version=called.script_version, contact__consumer__phone="+447412345678"
    )
    calls = list(Call.objects.filter(campaign=called))
    said = [
        line["text"] for call in calls if call.transcript for line in json.loads(call.transcript) if line["speaker"] == "person"
    ]
    heard = [r.heard for call in calls for r in call.responses.all() if r.heard]
    # Long enough to be what someone said, not an answer's own name ("yes") that results show.
    hidden = [text for text in said + heard if len(text) > 8]
    assert "Stop calling me." in hidden and "Yes indeed" in hidden and len(hidden) >= 3
    numbers = [call.consumer.phone for call in calls]
    hidden += ["Person 0", "Person 1", "Person 2", "Customer of", *numbers, *[n.replace("+44", "0") for n in numbers]]
    hidden += ["07911 1000", "+44 7911"]
    browser = signed_in(teammate)

    # When the viewer opens every campaigns page
    pages = [
        browser.get(url("list", organisation.pk)),
        browser.get(url("detail", organisation.pk, called.pk)),
        browser.get(url("progress", organisation.pk, called.pk)),
        browser.get(url("script", organisation.pk, called.pk)),
        browser.get(url("results", organisation.pk, called.pk)),
        *[browser.get(url("call", organisation.pk, call.pk)) for call in calls],
    ]

    # Then each shows the figures and masked numbers, and nothing that identifies anyone or what they said
    assert {page.status_code for page in pages} == {200}
    for page in pages:
        assert not [marker for marker in hidden if marker in text_of(page)], page.request["PATH_INFO"]
    results = text_of(pages[4])
    assert "••• ••• 000" in results and "Opted out" in results and "Completed the script" in results
    assert "Your role does not include reading what people said." in text_of(pages[5])
    assert "<audio" not in "".join(text_of(page) for page in pages)
    # A viewer may not export either, nor open a recording.
    assert browser.get(url("results-csv", organisation.pk, called.pk)).status_code == 403


@pytest.mark.obligation("P25")
def test_a_manager_sees_names_numbers_and_transcripts_and_opening_them_is_audited(organisation, manager, called):
    completed = Call.objects.get(campaign=called, outcome=Call.Outcome.COMPLETED_SCRIPT)
    browser = signed_in(manager)
    before = events("personal_data.revealed").count()

    results = text_of(browser.get(url("results", organisation.pk, called.pk)))
    detail = text_of(browser.get(url("call", organisation.pk, completed.pk)))

    assert "Person 0" in results and completed.consumer.name in detail
    assert json.loads(completed.transcript)[0]["text"] in detail
    assert "(heard: <q>" in detail
    assert events("personal_data.revealed").count() == before + 2


@pytest.mark.obligation("P25")
def test_the_csv_export_needs_the_export_capability_is_formula_safe_and_audited_with_counts_only(
    organisation, owner, manager, called
):
    consumer = Call.objects.get(campaign=called, outcome=Call.Outcome.COMPLETED_SCRIPT).consumer
    consumer.name = '=HYPERLINK("http://evil.example")'
    consumer.save()
    browser = signed_in(manager)

    response = browser.get(url("results-csv", organisation.pk, called.pk), {"outcome": "completed_script"})

    rows = list(csv.reader(io.StringIO(text_of(response).lstrip("\ufeff"))))
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    header = ["Call", "Created", "Dialled", "Answered", "Ended", "Duration (s)", "Status", "Outcome", "Answered by", "Attempt"]
    assert rows[0][:10] == header and rows[0][-2:] == ["Answer: satisfied", "Answer: callback"]
    assert len(rows) == 2 and '\'=HYPERLINK("http://evil.example")' in rows[1] and rows[1][-2:] == ["yes", "yes"]
    event = events("personal_data.exported").get()
    assert event.details == {"export": "campaign results", "rows": 1, "names_and_numbers": True}
    assert event.target_id == str(called.pk) and event.actor_id == manager.pk


@pytest.mark.obligation("P13")
def test_a_recording_plays_through_a_short_lived_link_each_playback_audited(
    organisation, manager, owner, called, tuesday_morning
):
    # Given a recorded call and a manager on its page
    call = Call.objects.get(campaign=called, outcome=Call.Outcome.COMPLETED_SCRIPT)
    browser = signed_in(manager)
    link = re.search(
        r'<audio controls preload="none" src="([^"]+)"', text_of(browser.get(url("call", organisation.pk, call.pk)))
    )[1]

    # When they play it, twice
    first, second = browser.get(link), browser.get(link)

    # Then they hear it, and each playback is in the audit trail
    assert first.status_code == 200 and first.content[:4] == b"RIFF" and "no-store" in first["Cache-Control"]
    assert first["Content-Disposition"] == f'inline; filename="call-{call.pk}.wav"'
    assert second.status_code == 200
    assert events("recording.accessed").filter(target_id=str(call.recording.pk), actor=manager).count() == 2

    # And the link works for nobody else, not once changed, and not after its time
    assert signed_in(owner).get(link).status_code == 403
    tampered = browser.get(link.replace(link.rstrip("/").rsplit(":", 1)[1], "AAAA"))
    assert tampered.status_code == 403 and "This playback link is not valid" in text_of(tampered)
    tuesday_morning.shift(datetime.timedelta(seconds=settings.PRIVATE_URL_EXPIRY_SECONDS + 1))
    expired = browser.get(link)
    assert expired.status_code == 410 and "This playback link has expired" in text_of(expired)
    assert events("recording.accessed").count() == 2


@pytest.mark.obligation("P13", "P25")
def test_only_members_who_may_hear_recordings_get_a_player_or_a_recording(organisation, teammate, manager, called):
    call = Call.objects.get(campaign=called, outcome=Call.Outcome.COMPLETED_SCRIPT)
    link = re.search(r'src="([^"]+/recording/[^"]+)"', text_of(signed_in(manager).get(url("call", organisation.pk, call.pk))))[1]
    viewer = signed_in(teammate)

    page = text_of(viewer.get(url("call", organisation.pk, call.pk)))
    played = viewer.get(link)  # a manager's link, passed on

    assert "Your role does not include listening to recordings." in page
    assert played.status_code == 403
    assert not events("recording.accessed").exists()


# --- Automated decisions (P16) ---------------------------------------------------------------


@pytest.mark.obligation("P16")
def test_automated_decisions_are_off_until_switched_on_with_a_reason_shown_with_who_and_when(organisation, owner, campaign):
    browser = signed_in(owner)
    assert "Calls make no decisions with legal or similar effects" in text_of(
        browser.get(url("detail", organisation.pk, campaign.pk))
    )

    refused = browser.post(url("automated-decisions", organisation.pk, campaign.pk), {"enabled": "on", "reason": "Because"})
    assert "Say why this campaign needs automated decisions" in text_of(refused)
    assert not Campaign.objects.get(pk=campaign.pk).automated_decisions

    reason = "Callers who confirm a missed payment get an automatic payment plan offer."
    browser.post(url("automated-decisions", organisation.pk, campaign.pk), {"enabled": "on", "reason": reason})
    page = text_of(browser.get(url("detail", organisation.pk, campaign.pk)))
    campaign.refresh_from_db()
    assert campaign.automated_decisions and campaign.automated_decisions_reason == reason
    assert f"by {owner.get_full_name()}" in page and "1 Dec 2026" in page and reason in page

    browser.post(url("automated-decisions", organisation.pk, campaign.pk), {"enabled": "off"})
    assert not Campaign.objects.get(pk=campaign.pk).automated_decisions
    assert events("campaign.automated_decisions_changed").count() == 2


# --- Caller IDs ------------------------------------------------------------------------------


def test_a_caller_id_shows_its_code_updates_its_status_by_itself_and_is_removed_after_confirming(organisation, owner):
    browser = signed_in(owner)

    added = browser.post(url("caller-ids", organisation.pk), {"number": "0113 496 0000", "label": "Leeds office"}, follow=True)
    caller_id = CallerId.objects.get(organisation=organisation)
    pending = browser.get(url("caller-id-statuses", organisation.pk)).json()
    simulator.play_caller_id_validation(caller_id.provider_reference, transport=transport_for(webhooks()))
    verified = browser.get(url("caller-id-statuses", organisation.pk)).json()

    page = text_of(added)
    assert f'key in <strong class="code">{caller_id.validation_code}</strong>' in page
    assert f"We are calling Leeds office now. Answer it and key in the code {caller_id.validation_code}." in page
    assert pending["caller_ids"][0]["status"] == "pending"
    assert verified["caller_ids"] == [{"id": caller_id.pk, "status": "verified", "status_label": "Verified", "reason": ""}]

    assert "Remove “Leeds office”?" in text_of(browser.get(url("caller-id-remove", organisation.pk, caller_id.pk)))
    assert CallerId.objects.filter(pk=caller_id.pk).exists()
    browser.post(url("caller-id-remove", organisation.pk, caller_id.pk))
    assert not CallerId.objects.filter(pk=caller_id.pk).exists()


def test_a_premium_rate_caller_id_is_refused_on_its_field(organisation, owner):
    response = signed_in(owner).post(url("caller-ids", organisation.pk), {"number": "0906 123 4567", "label": "Premium"})

    assert "The caller ID cannot be a premium-rate or revenue-sharing number" in text_of(response)
    assert not CallerId.objects.exists()


def test_a_caller_id_in_use_is_not_removed(organisation, owner, campaign):
    response = signed_in(owner).post(url("caller-id-remove", organisation.pk, campaign.caller_id_id), follow=True)

    assert "is the caller ID of a campaign that has not ended" in text_of(response)
    assert CallerId.objects.filter(pk=campaign.caller_id_id).exists()


# --- Roles and isolation ---------------------------------------------------------------------


@pytest.mark.obligation("P25")
def test_a_viewer_cannot_change_anything(organisation, teammate, campaign):
    viewer = signed_in(teammate)
    org, pk = organisation.pk, campaign.pk
    attempts = [
        viewer.get(url("new", org)),
        viewer.post(url("edit", org, pk), {"name": "Mine"}),
        viewer.post(url("pause", org, pk)),
        viewer.post(url("cancel", org, pk)),
        viewer.post(url("script", org, pk), {"action": "save"}),
        viewer.post(url("automated-decisions", org, pk), {"enabled": "on", "reason": "x" * 40}),
        viewer.post(url("caller-ids", org), {"number": "0113 496 0000", "label": "Mine"}),
    ]

    assert [a.status_code for a in attempts] == [403] * len(attempts)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.RUNNING and campaign.name != "Mine"
    assert ScriptVersion.objects.filter(campaign=campaign).count() == 1


@pytest.mark.obligation("P04")
def test_every_campaigns_page_of_another_organisation_is_a_404(organisation, owner, other_organisation, outsider, called):
    call = called.calls.get(outcome=Call.Outcome.COMPLETED_SCRIPT)
    statement = UsageStatementFactory(organisation=organisation)
    token_page = text_of(signed_in(owner).get(url("call", organisation.pk, call.pk)))
    recording = re.search(r'src="([^"]+/recording/[^"]+)"', token_page)[1]
    browser = signed_in(outsider)
    ours = {
        "detail": [called.pk], "edit": [called.pk], "progress": [called.pk], "cancel": [called.pk],
        "automated-decisions": [called.pk], "script": [called.pk], "results": [called.pk], "results-csv": [called.pk],
        "script-version": [called.script_version_id], "call": [call.pk],
        "caller-id-remove": [called.caller_id_id], "statement-csv": [statement.pk],
    }  # fmt: skip

    for name, args in ours.items():
        for org in (organisation.pk, other_organisation.pk):  # their URL, and ours with their ids
            assert browser.get(url(name, org, *args)).status_code == 404, (name, org)
    for name in ("launch", "pause", "resume"):
        assert browser.post(url(name, other_organisation.pk, called.pk)).status_code == 404
    assert browser.get(recording).status_code == 404
    assert browser.get(recording.replace(f"/o/{organisation.pk}/", f"/o/{other_organisation.pk}/")).status_code == 404
    assert "Boiler service" not in text_of(browser.get(url("list", other_organisation.pk)))


# --- Dashboard include -----------------------------------------------------------------------


def test_the_dashboard_summary_lists_running_campaigns(organisation, owner, called, django_capture_on_commit_callbacks):
    paused = launched(organisation, owner, numbers=[example_number(Persona.COOPERATIVE, 7)], name="Spring check")
    services.campaign_pause(campaign=paused, by=owner)
    # As the dashboard includes it (accounts.dashboard: each section's context as `data`)
    template = Template('{% include "campaigns/_dashboard.html" with data=data %}')

    html = template.render(Context({"data": {"organisation": organisation}}))

    assert "1 running, 1 scheduled or paused." in html
    assert "Boiler service follow-up</a> (running): 3 dialled, 2 connected, abandoned rate 0.0%" in html
    assert "Spring check</a> (paused)" in html


# --- Marketing lists offered by purpose --------------------------------------------------------


def test_the_form_tells_the_page_which_bases_and_lists_fit_each_purpose(organisation, owner, service_list):
    page = text_of(signed_in(owner).get(url("new", organisation.pk)))

    rules = json.loads(re.search(r'data-purpose-rules="([^"]+)"', page)[1].replace("&quot;", '"'))
    assert rules["marketing"] == {"lawful_bases": ["consent"], "list_purpose": ContactList.Purpose.MARKETING}
    assert 'data-purpose="service"' in page and "Customers (customer service calls, 1 person)" in page
