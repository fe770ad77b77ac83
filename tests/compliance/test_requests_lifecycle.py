"""A request's life in the admin and in the clients' inboxes: clock, extension, refusal, forwarding (P42, P43)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import WebhookDelivery, WebhookEvent
from compliance import requests, selectors
from compliance.models import DataSubjectRequest, RefusalGround, RequestKind, RequestPart
from consumers.models import Consumer
from nextsupport.fields import digest
from nextsupport.models import AuditEvent
from tests.compliance.dsr import committing
from tests.conftest import login
from tests.factories import APIKeyFactory, CallFactory, ConsumerFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State
PHONE = "+447911123456"


def staff_request(officer, kind=RequestKind.ACCESS, **changes) -> DataSubjectRequest:
    values = {
        "kind": kind,
        "channel": "post",
        "phone": PHONE,
        "email": None,
        "actor": officer,
        "verified_by": "signed letter with ID",
    }
    dsr = committing(requests.request_enter, **{**values, **changes})
    dsr.refresh_from_db()
    return dsr


@pytest.fixture
def held_by_two_clients(organisation, other_organisation):
    for org in (organisation, other_organisation):
        consumer = ConsumerFactory(organisation=org, phone=PHONE)
        CallFactory(organisation=org, contact__consumer=consumer, contact__campaign__organisation=org)
    return organisation, other_organisation


@pytest.mark.obligation("P42", "P14")
def test_a_verified_request_entered_by_staff_starts_its_clock_and_every_step_is_audited(compliance_officer):
    dsr = staff_request(compliance_officer)

    assert dsr.verified_by == "signed letter with ID" and dsr.due_on == dsr.verified_at.date() + datetime.timedelta(days=30)
    actions = set(AuditEvent.objects.filter(target_id=str(dsr.pk)).values_list("action", flat=True))
    assert {"compliance.request_received", "compliance.request_verified", "compliance.request_processed"} <= actions
    assert dsr.events.filter(action__startswith="Identity verified").exists()


@pytest.mark.obligation("P35", "P42")
def test_nothing_held_completes_with_an_empty_copy_as_any_other_request(compliance_officer, mailoutbox):
    dsr = staff_request(compliance_officer, email="nobody@home.example", phone=None)

    assert dsr.state == State.COMPLETED and dsr.package_name and dsr.processed_at
    [message] = mailoutbox
    assert "is complete" in message.subject and "ico.org.uk" in message.body and "compliance@nextsupport.co.uk" in message.body
    assert "/your-rights/requests/" in message.body and ".zip" not in message.body and not message.attachments


@pytest.mark.obligation("P42")
def test_a_pause_adds_its_days_and_an_extension_needs_a_reason_and_tells_the_requester(compliance_officer, mailoutbox):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, email="zoe@home.example", details="Wrong name")
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(verified_at=timezone.now() - datetime.timedelta(days=10))
    dsr.refresh_from_db()
    verified_on = timezone.localdate() - datetime.timedelta(days=10)
    requests.request_pause(dsr=dsr, reason="Which name is wrong?", actor=compliance_officer)
    # the requester took three days to answer
    dsr.pauses = [[(timezone.localdate() - datetime.timedelta(days=3)).isoformat(), None]]
    dsr.save(update_fields=["pauses"])

    requests.request_resume(dsr=dsr, actor=compliance_officer)
    due = verified_on + datetime.timedelta(days=30)
    assert dsr.due_on == due + datetime.timedelta(days=3)

    with pytest.raises(Exception, match="Record why"):
        requests.request_extend(dsr=dsr, days=30, reason=" ", actor=compliance_officer)
    committing(requests.request_extend, dsr=dsr, days=60, reason="Calls in 40 campaigns to review", actor=compliance_officer)
    assert dsr.due_on == due + datetime.timedelta(days=63)
    notice = [m for m in mailoutbox if "needs more time" in m.subject]
    assert notice and "Calls in 40 campaigns to review" in notice[0].body and "ico.org.uk" in notice[0].body
    with pytest.raises(Exception, match="two months at most"):
        requests.request_extend(dsr=dsr, days=1, reason="more", actor=compliance_officer)


@pytest.mark.obligation("P54")
def test_a_refusal_records_its_legal_ground_and_tells_the_requester_of_the_ico(compliance_officer, mailoutbox):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, email="zoe@home.example", details="x")

    committing(
        requests.request_refuse,
        dsr=dsr,
        ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        detail="The same request, weekly.",
        actor=compliance_officer,
    )

    dsr.refresh_from_db()
    assert dsr.state == State.REFUSED and dsr.refusal_ground == "excessive"
    [message] = [m for m in mailoutbox if "our answer" in m.subject]
    assert "Manifestly excessive" in message.body and "https://ico.org.uk/make-a-complaint/" in message.body


@pytest.mark.obligation("P43")
def test_each_clients_part_goes_to_its_inbox_and_webhook_with_its_own_deadline(compliance_officer, held_by_two_clients, owner):
    first, second = held_by_two_clients
    endpoint = WebhookEndpointFactory(organisation=first, events=[WebhookEvent.DATA_SUBJECT_REQUEST_FORWARDED])

    dsr = staff_request(compliance_officer, kind=RequestKind.ACCESS)

    assert dsr.state == State.AWAITING_CLIENT
    parts = {p.organisation_id: p for p in dsr.parts.all()}
    assert set(parts) == {first.pk, second.pk}
    assert all(p.due_on == p.forwarded_at.date() + datetime.timedelta(days=30) for p in parts.values())
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.event == "data_subject_request.forwarded"
    assert delivery.payload["data"]["reference"] == dsr.reference and PHONE not in str(delivery.payload)


@pytest.mark.obligation("P43")
def test_a_client_never_sees_another_clients_part(client, compliance_officer, held_by_two_clients, owner, outsider):
    first, second = held_by_two_clients
    dsr = staff_request(compliance_officer, kind=RequestKind.ACCESS)
    mine, theirs = dsr.parts.get(organisation=first), dsr.parts.get(organisation=second)
    login(client, owner)

    inbox = client.get(f"/app/o/{first.pk}/data-requests/").content.decode()

    assert f"/app/o/{first.pk}/data-requests/{mine.pk}/" in inbox and f"/data-requests/{theirs.pk}/" not in inbox
    assert client.get(f"/app/o/{first.pk}/data-requests/{theirs.pk}/").status_code == 404
    assert client.get(f"/app/o/{second.pk}/data-requests/").status_code == 404
    assert client.post(f"/app/o/{first.pk}/data-requests/{theirs.pk}/", {"answer": "done"}).status_code == 404
    assert RequestPart.objects.get(pk=theirs.pk).state == RequestPart.State.OPEN


@pytest.mark.obligation("P43")
def test_the_request_completes_when_every_client_has_answered_in_the_portal_or_the_api(
    client, compliance_officer, held_by_two_clients, owner, mailoutbox
):
    first, second = held_by_two_clients
    dsr = staff_request(compliance_officer, email="zoe@home.example")
    mine, theirs = dsr.parts.get(organisation=first), dsr.parts.get(organisation=second)
    login(client, owner)

    page = client.get(f"/app/o/{first.pk}/data-requests/{mine.pk}/").content.decode()
    assert PHONE in page or "07911 123456" in page
    client.post(f"/app/o/{first.pk}/data-requests/{mine.pk}/", {"answer": "done", "note": "Sent from our CRM too."})
    dsr.refresh_from_db()
    assert dsr.state == State.AWAITING_CLIENT

    key = APIKeyFactory(organisation=second, scope="read_write")
    api = client.__class__()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    listed = api.get(f"/api/v1/orgs/{second.pk}/data-subject-requests/", **headers).json()
    assert [row["id"] for row in listed["results"]] == [theirs.pk]
    assert "+44" not in str(listed)  # the list is masked; one request read in full is audited
    refused = api.post(f"/api/v1/orgs/{second.pk}/data-subject-requests/{theirs.pk}/answer/", {"answer": "refused"},
                       content_type="application/json", **headers)  # fmt: skip
    assert refused.status_code == 400 and "note" in refused.json()
    done = api.post(f"/api/v1/orgs/{second.pk}/data-subject-requests/{theirs.pk}/answer/",
                    {"answer": "done"}, content_type="application/json", **headers)  # fmt: skip
    assert done.status_code == 200 and done.json()["state"] == "done"

    dsr.refresh_from_db()
    assert dsr.state == State.COMPLETED
    assert [m for m in mailoutbox if "is complete" in m.subject]


@pytest.mark.obligation("P42")
def test_the_changelist_flags_overdue_and_due_soon_requests(client, compliance_officer):
    late, soon, later = (staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x") for _ in range(3))
    today = timezone.localdate()
    DataSubjectRequest.objects.filter(pk=late.pk).update(due_on=today - datetime.timedelta(days=1))
    DataSubjectRequest.objects.filter(pk=soon.pk).update(due_on=today + datetime.timedelta(days=6))
    DataSubjectRequest.objects.filter(pk=later.pk).update(due_on=today + datetime.timedelta(days=20))
    login(client, compliance_officer)

    html = client.get("/admin/compliance/datasubjectrequest/").content.decode()
    overdue_only = client.get("/admin/compliance/datasubjectrequest/?deadline=overdue").content.decode()

    assert html.count("⚠ OVERDUE") == 1 and html.count("Due soon:") == 1
    assert PHONE not in html and "07911 123456" not in html  # masked in the list
    assert late.reference in overdue_only and soon.reference not in overdue_only
    assert list(selectors.requests_overdue()) == [late] and list(selectors.requests_due_soon()) == [soon]


def test_staff_enter_a_request_that_came_by_post_and_the_person_gets_a_code(client, compliance_officer, mailoutbox):
    login(client, compliance_officer)

    response = client.post(
        "/admin/compliance/datasubjectrequest/add/",
        {"kind": "access", "channel": "post", "phone": "", "email": "zoe@home.example", "name": "Zoe", "details": "",
         "received_at_0": timezone.localdate().isoformat(), "received_at_1": "09:00:00", "verified_by": "",
         "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0, "parts-TOTAL_FORMS": 0, "parts-INITIAL_FORMS": 0},
    )  # fmt: skip

    dsr = DataSubjectRequest.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert dsr.channel == "post" and dsr.state == State.AWAITING_VERIFICATION
    assert [m.subject for m in mailoutbox] == [f"NextSupport: Confirm your data request {dsr.reference}"]
    page = client.get(f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/").content.decode()
    assert "E-mail: Sent" in page and "(waiting)" in page


def test_opening_a_request_in_the_admin_is_audited_and_an_assignment_goes_through_the_service(client, compliance_officer):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x")
    login(client, compliance_officer)

    client.get(f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/")
    assert AuditEvent.objects.filter(action="compliance.request_opened", target_id=str(dsr.pk)).exists()

    requests.request_assign(dsr=dsr, assignee=compliance_officer, actor=compliance_officer)
    assert DataSubjectRequest.objects.get(pk=dsr.pk).assigned_to == compliance_officer


@pytest.mark.obligation("P38", "P40", "P41", "P43")
@pytest.mark.parametrize(
    ("kind", "field", "action"),
    [
        (RequestKind.RESTRICTION, "restricted_at", "restricted"),
        (RequestKind.OBJECTION, "objected_at", "suppressed"),
        (RequestKind.WITHDRAW_CONSENT, "objected_at", "suppressed"),
    ],
)
def test_a_client_asking_us_to_act_stops_its_processing_and_the_receipt_says_so(
    compliance_officer, held_by_two_clients, kind, field, action
):
    first, _ = held_by_two_clients
    dsr = staff_request(compliance_officer, kind=kind)
    assert Consumer.objects.filter(phone_index=digest("phone", PHONE), **{f"{field}__isnull": False}).count() == 0

    committing(requests.part_answer, part=dsr.parts.get(organisation=first), answer="delegate", note="")

    acted = Consumer.objects.filter(phone_index=digest("phone", PHONE), **{f"{field}__isnull": False})
    assert list(acted.values_list("organisation_id", flat=True)) == [first.pk]  # only the client that asked
    part = dsr.parts.get(organisation=first)
    assert part.state == RequestPart.State.DELEGATED and [line["action"] for line in part.receipt] == [action]
    dsr.refresh_from_db()
    assert dsr.state == State.AWAITING_CLIENT  # the other client has not answered yet


def test_an_extension_without_a_reason_is_refused_in_the_admin_with_the_reason_why(client, compliance_officer):
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="x")
    login(client, compliance_officer)

    response = client.post(
        f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/",
        {"assigned_to": "", "extend_days": "30", "extend_reason": "", "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0,
         "parts-TOTAL_FORMS": 0, "parts-INITIAL_FORMS": 0},
        follow=True,
    )  # fmt: skip

    page = response.content.decode()
    assert "Record why the request is complex or numerous" in page and "was changed successfully" not in page
    assert DataSubjectRequest.objects.get(pk=dsr.pk).extension_days == 0


@pytest.mark.obligation("P36")
def test_staff_correct_an_item_we_control_from_the_request_and_the_receipt_says_so(client, compliance_officer):
    from compliance.models import Enquiry

    enquiry = Enquiry.objects.create(name="Zoe Smiht", email="zoe@home.example", subject="Hello", message="Hi")
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, email="zoe@home.example", phone=None, details="Name")
    login(client, compliance_officer)
    page = client.get(f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/").content.decode()
    assert f"compliance.Enquiry:{enquiry.pk}" in page

    client.post(
        f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/",
        {"assigned_to": "", "correct_item": f"compliance.Enquiry:{enquiry.pk}", "correct_field": "name",
         "correct_value": "Zoe Smith", "complete": "on", "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0,
         "parts-TOTAL_FORMS": 0, "parts-INITIAL_FORMS": 0},
    )  # fmt: skip

    enquiry.refresh_from_db()
    dsr.refresh_from_db()
    assert enquiry.name == "Zoe Smith"
    assert dsr.state == State.COMPLETED and [line["action"] for line in dsr.receipt] == ["corrected"]


@pytest.mark.obligation("P43")
def test_a_client_cannot_hand_back_a_correction_only_it_can_make(compliance_officer, held_by_two_clients):
    first, _ = held_by_two_clients
    dsr = staff_request(compliance_officer, kind=RequestKind.RECTIFICATION, details="My name is spelt Smith")

    with pytest.raises(ValidationError, match="correct the person's details under Consumers"):
        requests.part_answer(part=dsr.parts.get(organisation=first), answer="delegate", note="")
