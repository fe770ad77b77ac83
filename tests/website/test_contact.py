"""The contact form (P09, P33): stored encrypted, acknowledged, answered from the admin,
deleted when its retention ends; bots and floods get nowhere."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from compliance.models import Enquiry, EnquiryReply
from compliance.tasks import purge_enquiries
from nextsupport import privacy
from nextsupport.models import AuditEvent
from tests.conftest import login

FORM = {
    "name": "Priya Shah",
    "email": "priya.shah@example.org",
    "subject": "Pricing for 5,000 calls a month",
    "message": "Could you send me your pricing for support calls?",
    "website": "",
}


def submit(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/contact/", {**FORM, **changes}, REMOTE_ADDR=changes.pop("ip", "198.51.100.20"))


@pytest.mark.obligation("P09", "P24")
def test_an_enquiry_is_stored_encrypted_and_acknowledged_by_email(client, db, django_capture_on_commit_callbacks):
    response = submit(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response.url == "/contact/thanks/"
    enquiry = Enquiry.objects.get()
    assert (enquiry.name, enquiry.email, enquiry.subject, enquiry.status) == (
        "Priya Shah",
        "priya.shah@example.org",
        "Pricing for 5,000 calls a month",
        Enquiry.Status.OPEN,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, email, message FROM compliance_enquiry")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"Priya" not in raw and b"example.org" not in raw and b"pricing" not in raw
    [ack] = mail.outbox
    assert ack.to == ["priya.shah@example.org"]
    assert "We use what you sent us only to answer your enquiry" in ack.body
    assert "pricing" not in ack.body  # the message is never echoed to an address someone else typed
    assert "ico.org.uk" in ack.body
    enquiry.refresh_from_db()
    assert enquiry.acknowledged_at is not None


@pytest.mark.obligation("P09")
def test_the_form_tells_people_how_their_data_is_used(client, db):
    html = client.get("/contact/").content.decode()

    assert "How we use what you send" in html
    assert "only to answer this enquiry" in html
    assert "We keep it for one year, or 30 days after we have resolved your enquiry" in html


def test_missing_fields_are_named_and_nothing_is_stored(client, db, django_capture_on_commit_callbacks):
    response = submit(client, django_capture_on_commit_callbacks, email="not an address", message="")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter an e-mail address like name@example.com." in html
    assert "Enter your message." in html
    assert 'aria-invalid="true"' in html
    assert not Enquiry.objects.exists() and mail.outbox == []


def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(client, db, django_capture_on_commit_callbacks):
    response = submit(client, django_capture_on_commit_callbacks, website="http://spam.example")

    assert response.status_code == 302 and response.url == "/contact/thanks/"
    assert not Enquiry.objects.exists() and mail.outbox == []


def test_a_flood_from_one_network_is_held_back(client, db, settings, django_capture_on_commit_callbacks):
    settings.CONTACT_FORM_LIMIT_PER_HOUR = 2

    statuses = [submit(client, django_capture_on_commit_callbacks, ip=f"198.51.100.{n}").status_code for n in range(1, 5)]
    elsewhere = submit(client, django_capture_on_commit_callbacks, ip="192.0.2.10")

    assert statuses == [302, 302, 429, 429]
    assert elsewhere.status_code == 302
    assert Enquiry.objects.count() == 3


@pytest.mark.obligation("P09", "P13")
def test_staff_reply_from_the_admin_and_the_reply_is_tracked(client, db, compliance_officer, django_capture_on_commit_callbacks):
    submit(client, django_capture_on_commit_callbacks)
    enquiry = Enquiry.objects.get()
    mail.outbox.clear()
    login(client, compliance_officer)

    page = client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/compliance/enquiry/{enquiry.pk}/change/",
            {
                "replies-TOTAL_FORMS": "1",
                "replies-INITIAL_FORMS": "0",
                "replies-MIN_NUM_FORMS": "0",
                "replies-MAX_NUM_FORMS": "1000",
                "replies-0-body": "Thanks Priya, our pricing sheet is attached.",
                "replies-0-enquiry": str(enquiry.pk),
            },
        )

    assert "Priya Shah" in page.content.decode()
    assert AuditEvent.objects.filter(action="personal_data.revealed", target_id=str(enquiry.pk)).exists()
    reply = EnquiryReply.objects.get()
    assert (reply.sent_by, reply.body) == (compliance_officer, "Thanks Priya, our pricing sheet is attached.")
    assert reply.sent_at is not None
    [sent] = mail.outbox
    assert sent.to == ["priya.shah@example.org"] and sent.subject == "Re: Pricing for 5,000 calls a month"
    listing = client.get("/admin/compliance/enquiry/").content.decode()
    assert "Priya" not in listing  # the list shows status and dates, not personal data


def test_staff_find_an_enquiry_by_the_senders_address(client, db, compliance_officer, django_capture_on_commit_callbacks):
    submit(client, django_capture_on_commit_callbacks)
    submit(client, django_capture_on_commit_callbacks, email="someone.else@example.org")
    login(client, compliance_officer)

    found = client.get("/admin/compliance/enquiry/", {"q": "Priya.Shah@Example.org"})

    assert found.context["cl"].result_count == 1


@pytest.mark.obligation("P33", "P34")
def test_enquiries_are_purged_a_year_after_arrival_or_thirty_days_after_resolution(db, compliance_officer):

    now = timezone.now()

    def enquiry(received_days_ago, resolved_days_ago=None):
        item = Enquiry.objects.create(name="A", email="a@example.org", subject="S", message="M")
        Enquiry.objects.filter(pk=item.pk).update(
            received_at=now - datetime.timedelta(days=received_days_ago),
            status=Enquiry.Status.RESOLVED if resolved_days_ago is not None else Enquiry.Status.OPEN,
            resolved_at=now - datetime.timedelta(days=resolved_days_ago) if resolved_days_ago is not None else None,
        )
        return item.pk

    year_old = enquiry(366)
    resolved_long_ago = enquiry(60, resolved_days_ago=31)
    resolved_recently = enquiry(60, resolved_days_ago=5)
    open_recent = enquiry(100)
    EnquiryReply.objects.create(enquiry_id=year_old, body="Our answer", sent_by=compliance_officer)

    assert purge_enquiries.delay().get() == 2
    assert purge_enquiries.delay().get() == 0

    remaining = set(Enquiry.objects.values_list("pk", flat=True))
    assert remaining == {resolved_recently, open_recent}
    assert not {year_old, resolved_long_ago} & remaining
    assert not EnquiryReply.objects.exists()
    assert AuditEvent.objects.get(action="compliance.enquiries_purged").details == {"deleted": 2}


@pytest.mark.obligation("P35", "P37")
def test_enquiries_are_found_and_erased_through_the_registry(db, compliance_officer):
    mine = Enquiry.objects.create(name="Ada", email="ada@example.org", subject="S", message="M")
    EnquiryReply.objects.create(enquiry=mine, body="Hello Ada", sent_by=compliance_officer)
    Enquiry.objects.create(name="Bob", email="bob@example.org", subject="S", message="M")
    subject = privacy.Subject(email="ADA@example.org")

    assert list(privacy.registration_for(Enquiry).rows_for(subject)) == [mine]
    assert [r.body for r in privacy.registration_for(EnquiryReply).rows_for(subject)] == ["Hello Ada"]
    assert privacy.registration_for(Enquiry).erase(privacy.registration_for(Enquiry).rows_for(subject)) == 1
    assert list(Enquiry.objects.values_list("name", flat=True)) == ["Bob"]


def test_resolving_and_reopening_are_audited(client, db, compliance_officer):
    enquiry = Enquiry.objects.create(name="A", email="a@example.org", subject="S", message="M")
    login(client, compliance_officer)

    client.post("/admin/compliance/enquiry/", {"action": "mark_resolved", "_selected_action": [enquiry.pk]})
    enquiry.refresh_from_db()
    assert enquiry.status == Enquiry.Status.RESOLVED and enquiry.resolved_at is not None

    client.post("/admin/compliance/enquiry/", {"action": "reopen", "_selected_action": [enquiry.pk]})
    enquiry.refresh_from_db()
    assert (enquiry.status, enquiry.resolved_at) == (Enquiry.Status.OPEN, None)
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "compliance.enquiry_resolved",
        "compliance.enquiry_reopened",
    ]
