"""The personal-data breach register (P44-P47): clocks from awareness, alerts sent once,
client notices through the one send-once mechanism, the ICO's report and the timeline."""

import csv
import datetime
import io
import json
import smtplib

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends import locmem

from accounts.models import Notice
from compliance import breaches, events, selectors
from compliance.models import Breach, BreachAlert, BreachClientNotice, RiskLevel
from compliance.roles import DPO
from compliance.tasks import alert_overdue_breach_steps
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.factories import UserFactory

AWARE = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def dpo(db):
    from django.contrib.auth.models import Group

    user = UserFactory(email="dpo@nextsupport.example", is_staff=True)
    user.groups.add(Group.objects.get(name=DPO))
    return user


def record(actor, **changes) -> Breach:
    fields = {
        "title": "Contact list e-mailed to the wrong client",
        "aware_at": AWARE,
        "occurred_at": AWARE - datetime.timedelta(hours=3),
        "reported_by": "Sam Patel, support lead",
        "reporter_email": "sam.patel@nextsupport.example",
        "description": "A support agent attached another client's contact-list export to a reply.",
        "discovered_how": "The recipient told us.",
        "data_categories": ["basic_identifiers"],
        "people_categories": ["customers"],
        "approx_records": 1200,
        "approx_people": 1180,
        "likely_consequences": "Unwanted contact; low risk of fraud.",
        **changes,
    }
    with time_machine.travel(fields["aware_at"] + datetime.timedelta(minutes=30), tick=False):
        return breaches.breach_record(actor=actor, **fields)


def states(breach, at) -> dict[str, str]:
    breach = Breach.objects.get(pk=breach.pk)
    return {step.key: step.state(at) for step in breaches.steps(breach)}


@pytest.mark.obligation("P44")
def test_the_assessment_is_due_24_hours_after_awareness_and_overdue_only_after(dpo):
    breach = record(dpo)

    assert states(breach, AWARE + datetime.timedelta(hours=24))["assessment"] == breaches.State.DUE
    assert states(breach, AWARE + datetime.timedelta(hours=24, seconds=1))["assessment"] == breaches.State.OVERDUE

    with time_machine.travel(AWARE + datetime.timedelta(hours=23, minutes=59), tick=False):
        breaches.breach_assess(breach=breach, risk_level=RiskLevel.RISK, assessment="1,200 consumers' numbers.", actor=dpo)
    assert states(breach, AWARE + datetime.timedelta(days=5))["assessment"] == breaches.State.DONE


@pytest.mark.obligation("P44")
def test_an_assessment_after_24_hours_is_recorded_as_late(dpo):
    breach = record(dpo)

    with time_machine.travel(AWARE + datetime.timedelta(hours=25), tick=False):
        breaches.breach_assess(breach=breach, risk_level=RiskLevel.RISK, assessment="Scope confirmed.", actor=dpo)

    assert states(breach, AWARE + datetime.timedelta(hours=26))["assessment"] == breaches.State.DONE_LATE


@pytest.mark.obligation("P45")
def test_the_ico_report_is_due_at_72_hours_and_a_late_one_needs_its_reason(dpo):
    breach = record(dpo)
    assert states(breach, AWARE + datetime.timedelta(hours=72))["ico"] == breaches.State.DUE
    assert states(breach, AWARE + datetime.timedelta(hours=72, seconds=1))["ico"] == breaches.State.OVERDUE

    with pytest.raises(ValidationError, match="after 72 hours"):
        breaches.breach_ico_notified(
            breach=breach, ico_reference="IC-123456-A1B2", notified_at=AWARE + datetime.timedelta(hours=73), actor=dpo
        )
    breaches.breach_ico_notified(
        breach=breach,
        ico_reference="IC-123456-A1B2",
        notified_at=AWARE + datetime.timedelta(hours=73),
        delay_reason="The scope took a day longer to establish.",
        actor=dpo,
    )

    assert states(breach, AWARE + datetime.timedelta(days=4))["ico"] == breaches.State.DONE_LATE


@pytest.mark.obligation("P45")
def test_not_reporting_to_the_ico_is_a_recorded_decision_allowed_only_without_risk(dpo):
    breach = record(dpo)

    with pytest.raises(ValidationError, match="assess it first"):
        breaches.breach_ico_not_required(breach=breach, reason="Encrypted laptop.", actor=dpo)
    breaches.breach_assess(breach=breach, risk_level=RiskLevel.NONE, assessment="The data was encrypted.", actor=dpo)
    with pytest.raises(ValidationError):
        breaches.breach_ico_not_required(breach=breach, reason="  ", actor=dpo)
    breaches.breach_ico_not_required(breach=breach, reason="The laptop's disk was encrypted and the key not lost.", actor=dpo)

    breach.refresh_from_db()
    assert breach.ico_decision == Breach.IcoDecision.NOT_REQUIRED
    assert breach.ico_decision_reason.startswith("The laptop's disk")
    assert AuditEvent.objects.filter(action=events.BREACH_ICO_DECIDED, target_id=str(breach.pk)).count() == 1


@pytest.mark.obligation("P45")
def test_affected_clients_are_told_through_their_security_notices_once(
    dpo, organisation, owner, other_organisation, outsider, django_capture_on_commit_callbacks
):
    breach = record(dpo, organisations=[organisation, other_organisation])
    assert states(breach, AWARE + datetime.timedelta(hours=72, seconds=1))["clients"] == breaches.State.OVERDUE

    with django_capture_on_commit_callbacks(execute=True):
        told = breaches.breach_notify_clients(
            breach=breach, subject="A breach involving your data", body="On 1 December ...", actor=dpo
        )
    with django_capture_on_commit_callbacks(execute=True):
        told_again = breaches.breach_notify_clients(
            breach=breach, subject="A breach involving your data", body="On 1 December ...", actor=dpo
        )

    assert (told, told_again) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@acme.example", "owner@rival.example"]
    assert Notice.objects.filter(key__startswith="organisation_notice:").count() == 2
    assert all(n.notified_at for n in BreachClientNotice.objects.filter(breach=breach))
    assert states(breach, AWARE + datetime.timedelta(days=10))["clients"] == breaches.State.DONE


@pytest.mark.obligation("P46")
def test_a_high_risk_calls_for_telling_the_people_affected_with_the_guidance_recorded(dpo):
    breach = record(dpo)
    assert "individuals" not in states(breach, AWARE)

    breaches.breach_assess(breach=breach, risk_level=RiskLevel.HIGH, assessment="Bank details included.", actor=dpo)
    assert states(breach, AWARE + datetime.timedelta(hours=73))["individuals"] == breaches.State.OVERDUE
    with pytest.raises(ValidationError, match="guidance"):
        breaches.breach_inform_individuals(breach=breach, how="E-mail to each person", guidance="", actor=dpo)
    breaches.breach_inform_individuals(
        breach=breach,
        how="E-mail to each person",
        guidance="Watch for calls claiming to be your bank; we will never ask for your PIN.",
        informed_at=AWARE + datetime.timedelta(hours=30),
        actor=dpo,
    )

    breach.refresh_from_db()
    assert breach.individuals_guidance.startswith("Watch for calls")
    assert states(breach, AWARE + datetime.timedelta(days=5))["individuals"] == breaches.State.DONE


@pytest.mark.obligation("P28", "P47")
def test_corrective_actions_have_owners_and_due_dates_and_block_closing_until_done(dpo):
    breach = record(dpo)
    breaches.breach_assess(breach=breach, risk_level=RiskLevel.NONE, assessment="Recalled unread.", actor=dpo)
    breaches.breach_ico_not_required(breach=breach, reason="Recalled unread within minutes.", actor=dpo)
    action = breaches.breach_action_add(
        breach=breach,
        kind="corrective",
        description="Block attachments to replies",
        owner=dpo,
        due_on=datetime.date(2026, 12, 8),
        actor=dpo,
    )

    key = f"action:{action.pk}"
    assert states(breach, datetime.datetime(2026, 12, 8, 23, 59, tzinfo=datetime.UTC))[key] == breaches.State.DUE
    assert states(breach, datetime.datetime(2026, 12, 9, 0, 1, tzinfo=datetime.UTC))[key] == breaches.State.OVERDUE
    with pytest.raises(ValidationError, match="still has steps to do"):
        breaches.breach_close(breach=breach, actor=dpo)
    with pytest.raises(ValidationError, match="outcome"):
        breaches.breach_action_done(action=action, outcome="", actor=dpo)
    breaches.breach_action_done(action=action, outcome="Attachments disabled in the helpdesk.", actor=dpo)
    breaches.breach_close(breach=breach, actor=dpo)

    assert Breach.objects.get(pk=breach.pk).closed_at is not None


@pytest.mark.obligation("P44", "P45", "P47")
def test_overdue_steps_alert_the_team_once_per_breach_and_step(dpo):
    breach = record(dpo)

    with time_machine.travel(AWARE + datetime.timedelta(hours=23), tick=False):
        assert alert_overdue_breach_steps.delay().get() == 0
    with time_machine.travel(AWARE + datetime.timedelta(hours=25), tick=False):
        assert alert_overdue_breach_steps.delay().get() == 1  # the assessment
        assert alert_overdue_breach_steps.delay().get() == 0  # a second run: already sent
    with time_machine.travel(AWARE + datetime.timedelta(hours=73), tick=False):
        assert alert_overdue_breach_steps.delay().get() == 1  # now the ICO step too

    assert [m.to for m in mail.outbox] == [["compliance@nextsupport.co.uk"]] * 2
    assert "Assess the scope and the risk" in mail.outbox[0].subject and breach.reference in mail.outbox[0].subject
    assert set(BreachAlert.objects.values_list("step", flat=True)) == {"assessment", "ico"}
    assert AuditEvent.objects.filter(action=events.BREACH_ALERT_SENT).count() == 2


def test_an_alert_the_mail_server_refused_is_tried_again_on_the_next_run(dpo, monkeypatch):
    record(dpo)
    failures = [smtplib.SMTPServerDisconnected("gone")]
    real = locmem.EmailBackend.send_messages

    def flaky(backend, messages):
        if failures:
            raise failures.pop()
        return real(backend, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", flaky)
    with time_machine.travel(AWARE + datetime.timedelta(hours=25), tick=False):
        assert breaches.breach_alert_overdue() == 0
        assert BreachAlert.objects.get().send_error == "SMTPServerDisconnected"
        assert breaches.breach_alert_overdue() == 1

    assert len(mail.outbox) == 1


def test_bad_input_is_refused_with_the_field_and_the_reason(dpo):
    with pytest.raises(ValidationError) as refused:
        record(dpo, data_categories=["basic_identifiers", "shoe_sizes"])
    assert "shoe_sizes" in str(refused.value.message_dict["data_categories"])
    with pytest.raises(ValidationError) as refused:
        record(dpo, occurred_at=AWARE + datetime.timedelta(hours=1))
    assert "occurred_at" in refused.value.message_dict
    assert not Breach.objects.exists()


@pytest.mark.obligation("P45", "P47")
def test_the_ico_report_answers_the_forms_questions_without_personal_data(dpo, organisation):
    breach = record(dpo, organisations=[organisation])
    breaches.breach_assess(breach=breach, risk_level=RiskLevel.RISK, assessment="Names and numbers only.", actor=dpo)
    breaches.breach_action_add(
        breach=breach,
        kind="containment",
        description="Asked the recipient to delete it",
        owner=dpo,
        due_on=datetime.date(2026, 12, 2),
        actor=dpo,
    )

    report = breaches.ico_report(Breach.objects.get(pk=breach.pk))

    for question in (
        "what_happened",
        "how_we_found_out",
        "when_it_happened",
        "when_we_discovered_it",
        "reason_for_delay",
        "categories_of_personal_data",
        "approximate_number_of_records",
        "categories_of_people",
        "approximate_number_of_people",
        "likely_consequences",
        "measures_taken_or_proposed",
        "cyber_incident",
        "staff_trained_in_last_two_years",
    ):
        assert question in report
    assert report["organisation"]["data_protection_contact"]
    assert report["approximate_number_of_records"] == 1200
    assert report["categories_of_personal_data"] == ["Basic personal identifiers, e.g. name, contact details"]
    assert report["measures_taken_or_proposed"][0]["measure"] == "Asked the recipient to delete it"
    assert report["when_we_discovered_it"] == "2026-12-01T09:00:00+00:00"
    assert "Sam Patel" not in json.dumps(report) and "sam.patel" not in json.dumps(report)


@pytest.mark.obligation("P45")
def test_staff_download_the_ico_report_as_json_and_csv_and_the_download_is_audited(client, dpo):
    breach = record(dpo)
    login(client, dpo)

    as_json = client.get(f"/admin/compliance/breach/{breach.pk}/ico-report.json")
    as_csv = client.get(f"/admin/compliance/breach/{breach.pk}/ico-report.csv")

    assert as_json["Content-Disposition"] == f'attachment; filename="{breach.reference}-ico-report.json"'
    assert json.loads(as_json.content)["our_reference"] == breach.reference
    rows = list(csv.reader(io.StringIO(b"".join(as_csv.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Question", "Answer"]
    assert ["approximate_number_of_people", "1180"] in rows
    assert AuditEvent.objects.filter(action=events.BREACH_EXPORTED, target_id=str(breach.pk)).count() == 2


@pytest.mark.obligation("P47")
def test_the_timeline_lists_every_step_in_order(dpo, organisation, django_capture_on_commit_callbacks):
    breach = record(dpo, organisations=[organisation])
    with time_machine.travel(AWARE + datetime.timedelta(hours=5), tick=False):
        breaches.breach_assess(breach=breach, risk_level=RiskLevel.RISK, assessment="Scope confirmed.", actor=dpo)
    with time_machine.travel(AWARE + datetime.timedelta(hours=6), tick=False), django_capture_on_commit_callbacks(execute=True):
        breaches.breach_notify_clients(breach=breach, subject="A breach", body="Details", actor=dpo)

    what = [entry.what for entry in selectors.breach_timeline(breach)]

    assert what == [
        "The breach happened",
        "NextSupport became aware",
        "Recorded in the register",
        "Scope and risk assessed",
        "Affected clients told",
    ]


@pytest.mark.obligation("P28", "P44", "P47")
def test_the_admin_records_a_breach_and_shows_its_overdue_steps(client, dpo, organisation):
    with time_machine.travel(AWARE + datetime.timedelta(hours=1)):
        login(client, dpo)
        response = client.post(
            "/admin/compliance/breach/add/",
            {
                "title": "Lost laptop",
                "aware_at_0": "01/12/2026",
                "aware_at_1": "09:00:00",
                "reported_by": "Alex, engineer",
                "description": "A laptop was left on a train.",
                "cyber_incident": "no",
                "staff_trained": "yes",
                "data_categories": ["basic_identifiers"],
                "affected_clients": [organisation.pk],
                "actions-TOTAL_FORMS": "0",
                "actions-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    breach = Breach.objects.get()
    assert breach.reference == "BR-2026-001" and breach.reported_by == "Alex, engineer"
    assert list(breach.client_notices.values_list("organisation", flat=True)) == [organisation.pk]
    assert AuditEvent.objects.filter(action=events.BREACH_RECORDED, target_id=str(breach.pk)).exists()

    with time_machine.travel(AWARE + datetime.timedelta(hours=30)):
        login(client, dpo)  # a new working day: a new session
        listing = client.get("/admin/compliance/breach/").content.decode()
        page = client.get(f"/admin/compliance/breach/{breach.pk}/change/").content.decode()
        dashboard = client.get("/admin/compliance/dashboard/").content.decode()

    assert "OVERDUE: Assess the scope and the risk" in listing
    assert "Alex, engineer" not in listing and "Alex, engineer" not in page  # masked until revealed
    assert "OVERDUE" in page
    assert breach.reference in dashboard and "OVERDUE" in dashboard


def test_a_step_recorded_in_the_admin_goes_through_the_service(client, dpo):
    breach = record(dpo)
    login(client, dpo)

    refused = client.post(f"/admin/compliance/breach/{breach.pk}/step/ico-not-required/", {"reason": "Low risk."})
    client.post(f"/admin/compliance/breach/{breach.pk}/step/assess/", {"risk_level": "none", "assessment": "Encrypted."})

    assert refused.status_code == 400 and "assess it first" in refused.content.decode()
    breach.refresh_from_db()
    assert (breach.risk_level, breach.assessed_by) == (RiskLevel.NONE, dpo)


def test_support_staff_see_the_register_but_cannot_change_it(client, db):
    from django.contrib.auth.models import Group

    from compliance.roles import SUPPORT

    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    author = UserFactory(is_staff=True)
    breach = record(author)
    login(client, support)

    assert client.get(f"/admin/compliance/breach/{breach.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/compliance/breach/{breach.pk}/step/assess/", {"risk_level": "none", "assessment": "x"}).status_code
        == 403
    )
    assert client.get("/admin/compliance/breach/add/").status_code == 403
    assert Breach.objects.get(pk=breach.pk).assessed_at is None


def test_every_step_form_opens_from_the_breach_page(client, dpo):
    breach = record(dpo)
    login(client, dpo)

    page = client.get(f"/admin/compliance/breach/{breach.pk}/change/").content.decode()

    for name in breaches_admin_steps():
        url = f"/admin/compliance/breach/{breach.pk}/step/{name}/"
        assert url in page
        assert client.get(url).status_code == 200
    assert client.get(f"/admin/compliance/breach/{breach.pk}/step/delete-everything/").status_code == 404


def breaches_admin_steps():
    from compliance.admin_breaches import STEP_FORMS

    return list(STEP_FORMS)
