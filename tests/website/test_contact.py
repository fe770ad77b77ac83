"""The contact form (P09, P33): stored encrypted, acknowledged, answered from the admin,
deleted when its retention ends; bots and floods get nowhere."""

import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.utils import timezone

from compliance import services
from compliance.models import Enquiry, EnquiryReply
from compliance.tasks import send_enquiry_acknowledgement, send_enquiry_reply
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


def test_a_subject_over_several_lines_is_refused_with_a_reason(client, db, django_capture_on_commit_callbacks):
    response = submit(client, django_capture_on_commit_callbacks, subject="Pricing\r\nBcc: everyone@example.org")

    assert response.status_code == 400
    assert "Keep the subject on one line." in response.content.decode()
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

    masked = client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/").content.decode()
    client.post(f"/admin/compliance/enquiry/{enquiry.pk}/reveal/", {"reason": "answering the enquiry"})
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

    assert "Priya Shah" not in masked and "Reveal personal data" in masked
    assert "Priya Shah" in page.content.decode()
    revealed = AuditEvent.objects.get(action="personal_data.revealed", target_id=str(enquiry.pk))
    assert (revealed.actor, revealed.reason) == (compliance_officer, "answering the enquiry")
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


@pytest.fixture
def mail_server_errors(monkeypatch):
    """Errors the mail server raises for the next sends, in order; after them it works again."""
    errors = []
    send_messages = locmem.EmailBackend.send_messages

    def failing_first(backend, messages):
        if errors:
            raise errors.pop(0)
        return send_messages(backend, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", failing_first)
    return errors


@pytest.fixture
def enquiry(db):
    return Enquiry.objects.create(name="Priya Shah", email="priya.shah@example.org", subject="Pricing", message="M")


@pytest.mark.obligation("P09")
def test_a_reply_the_mail_server_refused_is_shown_as_not_sent(client, enquiry, compliance_officer, mail_server_errors):
    reply = EnquiryReply.objects.create(enquiry=enquiry, body="Our pricing", sent_by=compliance_officer)
    mail_server_errors.append(smtplib.SMTPRecipientsRefused({"priya.shah@example.org": (550, b"No such user")}))

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_enquiry_reply.delay(reply.pk)

    reply.refresh_from_db()
    assert (reply.sent_at, reply.send_error) == (None, "SMTPRecipientsRefused")
    assert mail.outbox == []
    login(client, compliance_officer)
    page = client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/").content.decode()
    assert "Not sent: SMTPRecipientsRefused" in page
    assert "priya.shah@example.org" not in reply.send_error


@pytest.mark.obligation("P09")
def test_a_reply_is_sent_once_when_the_mail_server_was_briefly_unavailable(enquiry, compliance_officer, mail_server_errors):
    reply = EnquiryReply.objects.create(enquiry=enquiry, body="Our pricing", sent_by=compliance_officer)
    mail_server_errors.append(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))

    with pytest.raises(Retry):
        send_enquiry_reply.delay(reply.pk)  # the worker schedules another try
    reply.refresh_from_db()
    assert (reply.sent_at, reply.send_error) == (None, "SMTPServerDisconnected")

    assert send_enquiry_reply.delay(reply.pk).get() is True  # the retry
    assert send_enquiry_reply.delay(reply.pk).get() is False  # a redelivery: already sent
    reply.refresh_from_db()
    assert reply.sent_at is not None and reply.send_error == ""
    assert len(mail.outbox) == 1


def test_a_reply_another_worker_is_sending_is_not_sent_again(enquiry, compliance_officer):
    reply = EnquiryReply.objects.create(enquiry=enquiry, body="Our pricing", sent_by=compliance_officer)
    EnquiryReply.objects.filter(pk=reply.pk).update(sending_since=timezone.now())

    assert send_enquiry_reply.delay(reply.pk).get() is False
    assert mail.outbox == []


def test_an_enquiry_stored_with_a_multi_line_subject_can_still_be_answered(enquiry, compliance_officer):
    Enquiry.objects.filter(pk=enquiry.pk).update(subject="Pricing\r\nfor 2027")  # stored before the form refused it
    reply = services.enquiry_reply(enquiry=Enquiry.objects.get(pk=enquiry.pk), body="Our pricing", sender=compliance_officer)

    assert send_enquiry_reply.delay(reply.pk).get() is True
    [sent] = mail.outbox
    assert sent.subject == "Re: Pricing for 2027"


@pytest.mark.obligation("P09")
def test_an_acknowledgement_that_failed_is_not_recorded_as_sent(client, enquiry, compliance_officer, mail_server_errors):
    mail_server_errors.append(smtplib.SMTPDataError(554, b"Message rejected"))

    with pytest.raises(smtplib.SMTPDataError):
        send_enquiry_acknowledgement.delay(enquiry.pk)

    enquiry.refresh_from_db()
    assert (enquiry.acknowledged_at, enquiry.acknowledgement_error) == (None, "SMTPDataError (SMTP 554)")
    login(client, compliance_officer)
    page = client.get(f"/admin/compliance/enquiry/{enquiry.pk}/change/").content.decode()
    assert "Not sent: SMTPDataError (SMTP 554)" in page
    assert send_enquiry_acknowledgement.delay(enquiry.pk).get() is True  # sent when asked again, once
    assert send_enquiry_acknowledgement.delay(enquiry.pk).get() is False
    assert len(mail.outbox) == 1
