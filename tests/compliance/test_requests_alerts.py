"""The daily e-mail to the compliance team: once per request and state (P42)."""

import datetime

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from compliance import tasks
from compliance.models import DataSubjectRequest, RequestKind, RequestMessage
from tests.compliance.test_requests_lifecycle import staff_request
from tests.conftest import login

pytestmark = [pytest.mark.django_db, pytest.mark.obligation("P42")]


def due_in(dsr, days: int) -> None:
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(due_on=timezone.localdate() + datetime.timedelta(days=days))


def alerts(mailoutbox) -> list[str]:
    return [m.subject for m in mailoutbox if m.to == ["compliance@nextsupport.co.uk"]]


def test_the_team_hears_once_of_a_request_due_soon_and_once_more_when_it_is_overdue(compliance_officer, mailoutbox):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x")
    on_track = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="y")
    due_in(dsr, 5)
    due_in(on_track, 20)

    tasks.alert_request_deadlines()
    tasks.alert_request_deadlines()  # the next day's run, or a task delivered twice
    assert alerts(mailoutbox) == [f"NextSupport: Due soon: data-subject request {dsr.reference} ({date(5)})"]

    due_in(dsr, -1)
    tasks.alert_request_deadlines()
    tasks.alert_request_deadlines()
    assert len(alerts(mailoutbox)) == 2 and "Overdue" in alerts(mailoutbox)[1]
    assert f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/" in mailoutbox[-1].body
    assert RequestMessage.objects.filter(request=dsr).count() == 2


def test_closed_requests_and_those_whose_clock_has_not_started_raise_no_alert(compliance_officer, mailoutbox):
    closed = staff_request(compliance_officer, email="nobody@home.example", phone=None)  # completes at once
    due_in(closed, -3)
    unverified = staff_request(compliance_officer, kind=RequestKind.ACCESS, verified_by="", email="x@home.example", phone=None)
    assert unverified.due_on is None

    assert tasks.alert_request_deadlines() == 0
    assert alerts(mailoutbox) == []


def test_a_failed_send_is_not_marked_sent_and_goes_out_on_the_next_run(compliance_officer, mailoutbox, monkeypatch):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x")
    due_in(dsr, -1)
    from nextsupport import mail

    real_send = mail.send
    monkeypatch.setattr(mail, "send", lambda **kw: (_ for _ in ()).throw(ConnectionError("mail server down")))
    with pytest.raises(Retry):  # a mail server that is down is tried again later
        tasks.alert_request_deadlines()
    assert RequestMessage.objects.get(request=dsr).send_error == "ConnectionError"

    monkeypatch.setattr(mail, "send", real_send)
    tasks.alert_request_deadlines()
    assert len(alerts(mailoutbox)) == 1


def date(days: int) -> str:
    return f"due {(timezone.localdate() + datetime.timedelta(days=days)):%-d %b %Y}"


@pytest.mark.obligation("P14")
def test_the_copy_goes_thirty_days_after_the_request_ended_and_the_request_after_six_years(compliance_officer):
    from django.core.files.storage import storages

    from compliance import requests, retention

    dsr = staff_request(compliance_officer, email="nobody@home.example", phone=None)  # completed, with a copy
    name = dsr.package_name
    assert storages["default"].exists(name)

    assert requests.request_copies_expire(now=timezone.now() + datetime.timedelta(days=29)) == 0
    assert requests.request_copies_expire(now=timezone.now() + datetime.timedelta(days=31)) == 1
    assert not storages["default"].exists(name) and DataSubjectRequest.objects.get(pk=dsr.pk).package_name == ""
    assert requests.request_copies_expire(now=timezone.now() + datetime.timedelta(days=31)) == 0

    retention.purge(now=timezone.now() + datetime.timedelta(days=6 * 365 - 1))
    assert DataSubjectRequest.objects.filter(pk=dsr.pk).exists()
    retention.purge(now=timezone.now() + datetime.timedelta(days=6 * 365 + 1))  # the one engine, like every row
    assert not DataSubjectRequest.objects.filter(pk=dsr.pk).exists()


def test_the_compliance_dashboard_shows_overdue_and_due_soon_requests_but_not_those_on_track(compliance_officer, client):
    overdue = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x")
    soon = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="y")
    on_track = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="z")
    due_in(overdue, -2)
    due_in(soon, 3)
    due_in(on_track, 20)
    login(client, compliance_officer)

    page = client.get("/admin/compliance/dashboard/").content.decode()

    section = page.split('id="requests-due"')[1].split("</table>")[0]
    assert overdue.reference in section and "OVERDUE" in section
    assert soon.reference in section and "Due soon" in section
    assert on_track.reference not in section
