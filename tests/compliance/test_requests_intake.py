"""The public request form, verification by one-time link or code, and its rate limits (P42)."""

import datetime
import re

import pytest
from django.utils import timezone

from compliance.models import DataSubjectRequest, VerificationChallenge
from nextsupport.models import AuditEvent
from tests.compliance.dsr import CommittingClient, emailed_code, emailed_link, submit, texted_code
from tests.factories import ConsumerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.obligation("P42")]
State = DataSubjectRequest.State


def test_the_form_shows_every_right_with_labels_the_contact_and_the_ico(client):
    html = client.get("/your-rights/").content.decode()

    for kind in ("access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent"):
        assert f'value="{kind}"' in html
    assert '<label for="id_phone">' in html and '<label for="id_email">' in html
    assert "<legend>What would you like us to do?</legend>" in html
    assert "mailto:compliance@nextsupport.co.uk" in html and "https://ico.org.uk/make-a-complaint/" in html
    assert "captcha" not in html.lower()


def test_an_incomplete_form_lists_each_error_linked_to_its_field(client):
    response = submit(client, kind="", phone="12")

    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and "Your request was not sent" in html
    assert 'href="#id_kind_0"' in html and 'href="#id_phone"' in html
    assert DataSubjectRequest.objects.count() == 0


def test_a_request_needs_a_phone_number_or_an_email_address(client):
    response = submit(client, kind="erasure")

    assert response.status_code == 400
    assert "Give your phone number, your e-mail address or both" in response.content.decode()


def test_a_request_sends_a_one_time_link_and_code_and_reveals_nothing_yet(client, mailoutbox):
    response = submit(client, email="zoe@home.example")

    assert response.status_code == 302 and response["Location"] == "/your-rights/verify/"
    dsr = DataSubjectRequest.objects.get()
    assert dsr.state == State.AWAITING_VERIFICATION and dsr.reference.startswith(f"DSR-{timezone.now().year}-")
    assert dsr.processed_at is None and dsr.due_on is None  # no discovery before verification
    [message] = mailoutbox
    assert emailed_code(mailoutbox, "zoe@home.example") and emailed_link(mailoutbox, "zoe@home.example")
    assert "compliance@nextsupport.co.uk" in message.body and "ico.org.uk" in message.body
    # only digests are kept: the code and the link's token are nowhere in the database
    challenge = VerificationChallenge.objects.get()
    assert emailed_code(mailoutbox, "zoe@home.example") not in challenge.token_digest + challenge.nonce


@pytest.mark.obligation("P35")
def test_before_verification_a_person_we_hold_gets_exactly_the_answer_of_one_we_do_not(client, mailoutbox):
    ConsumerFactory(phone="+447911000111", email="held@home.example")

    held = submit(client, email="held@home.example")
    held_page = without_csrf(client.get("/your-rights/verify/").content.decode())
    unknown = submit(client, email="unknown@home.example")
    unknown_page = without_csrf(client.get("/your-rights/verify/").content.decode())

    first, second = DataSubjectRequest.objects.order_by("pk")
    assert (held.status_code, held["Location"]) == (unknown.status_code, unknown["Location"])
    assert held_page.replace(first.reference, "REF") == unknown_page.replace(second.reference, "REF")
    bodies = [m.body.replace(r, "REF") for m, r in zip(mailoutbox, (first.reference, second.reference), strict=True)]
    assert bodies[0].split("/your-rights/verify/")[0] == bodies[1].split("/your-rights/verify/")[0]


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_emailed_code_verifies_the_request_and_starts_the_thirty_day_clock(client, mailoutbox):
    submit(client, email="zoe@home.example")

    response = client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})

    dsr = DataSubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/your-rights/requests/{dsr.reference}/"
    assert dsr.verified_at is not None and dsr.state in (State.COMPLETED, State.IN_PROGRESS)
    assert dsr.due_on == timezone.localdate() + datetime.timedelta(days=30)
    assert AuditEvent.objects.filter(action="compliance.request_verified", target_id=str(dsr.pk)).exists()


def test_the_emailed_link_verifies_on_its_button_not_on_the_mere_opening(client, mailoutbox):
    submit(client, email="zoe@home.example")
    link = emailed_link(mailoutbox, "zoe@home.example")

    opened = client.get(link)
    assert opened.status_code == 200 and "Yes, it was me" in opened.content.decode()
    assert DataSubjectRequest.objects.get().verified_at is None

    client.post(link)
    assert DataSubjectRequest.objects.get().verified_at is not None


def test_a_used_link_says_it_was_used(client, mailoutbox):
    submit(client, email="zoe@home.example")
    link = emailed_link(mailoutbox, "zoe@home.example")
    client.post(link)

    again = client.post(link)

    assert again.status_code == 400 and "already been used" in again.content.decode()


def test_an_expired_code_says_it_expired(client, mailoutbox):
    submit(client, email="zoe@home.example")
    VerificationChallenge.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})

    assert response.status_code == 400 and "has expired" in response.content.decode()
    assert DataSubjectRequest.objects.get().verified_at is None


def test_a_wrong_code_is_refused_and_five_wrong_codes_burn_it(client, mailoutbox):
    submit(client, email="zoe@home.example")
    right = emailed_code(mailoutbox, "zoe@home.example")
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    first = client.post("/your-rights/verify/", {"code": wrong})
    assert first.status_code == 400 and "not the one we sent" in first.content.decode()
    for _ in range(4):
        client.post("/your-rights/verify/", {"code": wrong})
    late = client.post("/your-rights/verify/", {"code": right})

    assert "too many times" in late.content.decode()
    assert DataSubjectRequest.objects.get().verified_at is None


def test_a_phone_number_is_verified_by_a_code_sent_by_text_through_the_provider(client, mailoutbox):
    submit(client, phone="07911 123456")

    client.post("/your-rights/verify/", {"code": texted_code("+447911123456")})

    dsr = DataSubjectRequest.objects.get()
    assert dsr.verified_at is not None and "sms" in dsr.verified_by
    assert mailoutbox == []


def test_with_both_a_phone_and_an_email_each_must_be_proved(client, mailoutbox):
    submit(client, phone="07911 123456", email="zoe@home.example")

    after_email = client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})
    assert after_email["Location"] == "/your-rights/verify/"
    assert DataSubjectRequest.objects.get().verified_at is None

    client.post("/your-rights/verify/", {"code": texted_code("+447911123456")})
    assert DataSubjectRequest.objects.get().verified_at is not None


def test_the_request_page_opens_only_in_the_browser_that_proved_it(client, mailoutbox):
    submit(client, email="zoe@home.example")
    client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})
    reference = DataSubjectRequest.objects.get().reference

    mine = client.get(f"/your-rights/requests/{reference}/").content.decode()
    stranger = without_csrf(CommittingClient().get(f"/your-rights/requests/{reference}/").content.decode())
    nonexistent = without_csrf(CommittingClient().get("/your-rights/requests/DSR-2026-999999/").content.decode())

    assert "What we did" in mine
    assert "What we did" not in stranger and "Send me a new code" in stranger
    assert stranger.replace(reference, "REF") == nonexistent.replace("DSR-2026-999999", "REF")


def test_coming_back_later_sends_a_fresh_code_to_the_same_address(client, mailoutbox):
    submit(client, email="zoe@home.example")
    client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})
    reference = DataSubjectRequest.objects.get().reference
    later = CommittingClient()

    later.post(f"/your-rights/requests/{reference}/")
    later.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})

    assert "What we did" in later.get(f"/your-rights/requests/{reference}/").content.decode()


def test_a_bot_filling_the_hidden_field_is_answered_like_a_person_and_nothing_is_stored(client, mailoutbox):
    response = submit(client, email="zoe@home.example", website="https://spam.example")

    assert response.status_code == 302 and response["Location"] == "/your-rights/verify/"
    assert DataSubjectRequest.objects.count() == 0 and mailoutbox == []


def test_requests_are_limited_per_network(client, settings, mailoutbox):
    settings.RIGHTS_REQUEST_LIMIT_PER_HOUR = 2
    for n in range(2):
        assert submit(client, email=f"person{n}@home.example").status_code == 302

    refused = submit(client, email="person9@home.example")

    assert refused.status_code == 429 and "several requests" in refused.content.decode()
    assert DataSubjectRequest.objects.count() == 2


def test_requests_are_limited_per_identifier_whatever_the_network(client, settings):
    settings.RIGHTS_REQUEST_LIMIT_PER_IDENTIFIER = 2
    for n in range(2):
        submit(client, phone="07911 123456", REMOTE_ADDR=f"198.51.{n}.1")

    refused = client.post("/your-rights/", {"kind": "access", "phone": "+44 7911 123456", "email": ""}, REMOTE_ADDR="203.0.113.9")

    assert refused.status_code == 429
    assert DataSubjectRequest.objects.count() == 2


def test_asking_a_new_code_for_a_reference_reads_the_same_whether_it_exists_or_not(client, mailoutbox):
    submit(client, email="zoe@home.example")
    real = DataSubjectRequest.objects.get().reference
    pages = []
    for reference in (real, "DSR-2026-999999"):
        stranger = CommittingClient()
        stranger.post(f"/your-rights/requests/{reference}/")
        page = stranger.get("/your-rights/verify/").content.decode()
        answer = stranger.post("/your-rights/verify/", {"code": "000000"})
        pages.append((without_csrf(page).replace(reference, "REF"), answer.status_code))

    assert pages[0] == pages[1]


@pytest.mark.obligation("P35")
def test_the_download_link_works_only_in_the_verified_browser_and_only_for_ten_minutes(client, mailoutbox, monkeypatch):
    import time

    submit(client, email="zoe@home.example")
    client.post("/your-rights/verify/", {"code": emailed_code(mailoutbox, "zoe@home.example")})
    reference = DataSubjectRequest.objects.get().reference
    page = client.get(f"/your-rights/requests/{reference}/").content.decode()
    [link] = re.findall(r'href="(/your-rights/requests/[^"]+/download/[^"]+/)"', page)

    assert CommittingClient().get(link).status_code == 404  # the link alone opens nothing
    assert client.get(link).status_code == 200
    later = time.time() + 11 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
