"""The consent-logging endpoint: proof of every choice (P18), nothing more, kept 12 months (P32)."""

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cookies import buffer, consent_cookie
from cookies.models import ConsentRecord
from cookies.selectors import banner_version, published_cookie_policy_versions
from cookies.tasks import flush_consent_buffer
from nextsupport import privacy
from nextsupport import services as policy_services
from nextsupport.models import PolicyDocument
from tests.conftest import login
from tests.website.conftest import CONSENT_ENDPOINT as ENDPOINT
from tests.website.conftest import consent_log, post


@pytest.mark.obligation("P18", "P14")
def test_a_choice_is_logged_with_exactly_the_proof_fields_and_a_consent_cookie(client, db, choice):
    response = post(client, choice, REMOTE_ADDR="203.0.113.77")

    assert response.status_code == 201
    record = consent_log().get()
    assert response.json() == {
        "consent_id": str(record.consent_id),
        "categories": ["analytics"],
        "policy_version": 1,
        "gpc": False,
    }
    assert (record.categories, record.policy_version, record.banner_version, record.gpc) == (
        ["analytics"],
        1,
        banner_version(),
        False,
    )
    assert {f.name for f in ConsentRecord._meta.fields} == {
        "id",
        "consent_id",
        "categories",
        "policy_version",
        "banner_version",
        "gpc",
        "ip_hash",
        "created_at",
    }
    cookie = response.cookies[consent_cookie.NAME]
    stamp = int(record.created_at.timestamp())
    assert cookie.value.startswith(f"1.{record.consent_id.hex}.analytics.1.{stamp}.0.")  # then the server's seal
    assert (cookie["max-age"], cookie["samesite"], cookie["path"], cookie["httponly"]) == (365 * 24 * 3600, "Lax", "/", "")


@pytest.mark.obligation("P24")
def test_the_consent_cookie_is_secure_over_https_and_wherever_session_cookies_are(client, db, choice, settings):
    settings.SESSION_COOKIE_SECURE = False  # as in development: the request alone decides
    over_https = post(client, choice, secure=True).cookies[consent_cookie.NAME]
    over_http = post(client, choice).cookies[consent_cookie.NAME]
    settings.SESSION_COOKIE_SECURE = True  # as in production, even behind a proxy that speaks plain HTTP to us
    behind_proxy = post(client, choice).cookies[consent_cookie.NAME]

    assert (over_https["secure"], over_http["secure"], behind_proxy["secure"]) == (True, "", True)


@pytest.mark.obligation("P18")
def test_the_address_is_kept_only_as_a_keyed_hash_of_its_network(client, db, choice):
    post(client, choice, REMOTE_ADDR="203.0.113.77")
    post(client, choice, REMOTE_ADDR="203.0.113.9")
    post(client, choice, REMOTE_ADDR="198.51.100.7")

    first, neighbour, elsewhere = consent_log().values_list("ip_hash", flat=True)
    assert len(first) == 32 and first == neighbour != elsewhere
    assert "203.0.113" not in first


def test_a_later_choice_keeps_the_visitors_consent_id(client, db, choice):
    consent_id = post(client, choice).json()["consent_id"]

    post(client, {**choice, "consent_id": consent_id, "categories": []})

    assert list(consent_log().values_list("consent_id", "categories")) == [
        (uuid.UUID(consent_id), ["analytics"]),
        (uuid.UUID(consent_id), []),
    ]


@pytest.mark.obligation("P18")
def test_a_consent_id_is_continued_only_by_the_visitor_whose_cookie_holds_it(client, db, choice):
    visitor_id = post(client, choice).json()["consent_id"]
    stranger, other_visitor, forger = Client(), Client(), Client()
    post(other_visitor, choice)
    forger.cookies[consent_cookie.NAME] = f"1.{uuid.UUID(visitor_id).hex}.analytics.1.1767225600.0"  # written by hand

    attempts = [
        post(someone, {**choice, "consent_id": visitor_id, "categories": []}) for someone in (stranger, other_visitor, forger)
    ]

    assert [response.status_code for response in attempts] == [201, 201, 201]
    assert visitor_id not in {response.json()["consent_id"] for response in attempts}  # each got an id of its own
    assert list(consent_log().filter(consent_id=visitor_id).values_list("categories", flat=True)) == [["analytics"]]
    assert consent_log().count() == 5


def test_a_flood_of_choices_from_one_network_is_held_back(client, db, choice, settings):
    settings.COOKIE_CONSENT_LIMIT_PER_HOUR = 2

    statuses = [post(client, choice, REMOTE_ADDR=f"203.0.113.{n}").status_code for n in range(1, 5)]
    elsewhere = post(client, choice, REMOTE_ADDR="198.51.100.7")

    assert statuses == [201, 201, 429, 429]
    assert "Too many cookie choices" in post(client, choice, REMOTE_ADDR="203.0.113.9").json()["error"]
    assert elsewhere.status_code == 201
    assert consent_log().count() == 3


def test_made_up_policy_versions_do_not_send_each_request_to_the_database(client, db, choice):
    post(client, choice)  # the worker's first request loads the published versions

    with CaptureQueriesContext(connection) as queries:
        responses = [post(client, {**choice, "policy_version": version}) for version in (7, 8, 9)]

    assert [response.status_code for response in responses] == [400, 400, 400]
    assert queries.captured_queries == []


def test_a_version_published_by_another_process_is_accepted_after_a_short_interval(client, db, choice):
    post(client, choice)
    current = PolicyDocument.objects.get(kind=PolicyDocument.Kind.COOKIES)
    draft = policy_services.policy_document_draft_from(document=current)
    # Published by another process: this one hears no signal.
    PolicyDocument.objects.filter(pk=draft.pk).update(status=PolicyDocument.Status.PUBLISHED)

    refused = post(client, {**choice, "policy_version": 2})
    published_cookie_policy_versions.refreshed_at -= published_cookie_policy_versions.REFRESH_SECONDS
    accepted = post(client, {**choice, "policy_version": 2})

    assert (refused.status_code, accepted.status_code) == (400, 201)


@pytest.mark.obligation("P18")
def test_the_gpc_header_is_recorded_even_when_the_script_did_not_report_it(client, db, choice):
    post(client, {**choice, "categories": []}, HTTP_SEC_GPC="1")

    assert consent_log().get().gpc is True


def test_with_the_buffer_a_choice_costs_no_query_and_lands_on_the_next_flush(client, db, choice, redis_buffer):
    post(client, choice)  # warms the published-versions cache, as the first request of a worker does

    with CaptureQueriesContext(connection) as queries:
        response = post(client, choice)

    assert response.status_code == 201
    assert queries.captured_queries == []
    assert set(response.cookies) == {consent_cookie.NAME}  # no session, no CSRF cookie
    assert ConsentRecord.objects.count() == 0 and buffer.waiting() == 2
    assert flush_consent_buffer.delay().get() == 2
    assert flush_consent_buffer.delay().get() == 0
    assert str(ConsentRecord.objects.latest("created_at").consent_id) == response.json()["consent_id"]


def test_without_a_buffer_a_choice_costs_one_insert(client, db, choice, settings):
    settings.COOKIE_CONSENT_BUFFER_URL = ""
    post(client, choice)

    with CaptureQueriesContext(connection) as queries:
        post(client, choice)

    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    assert ConsentRecord.objects.count() == 2


def test_when_redis_is_down_the_choice_is_inserted_directly_not_lost(client, db, choice, settings):
    settings.COOKIE_CONSENT_BUFFER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = post(client, choice)

    assert response.status_code == 201
    assert ConsentRecord.objects.count() == 1


def test_a_flush_that_died_half_way_is_redone_without_duplicates(client, db, choice, redis_buffer):
    post(client, choice)
    post(client, {**choice, "categories": []})
    queue, processing, _ = buffer._keys()
    # A flusher parked the batch, wrote it, and died before clearing it.
    redis_buffer.eval(buffer._TAKE, 2, queue, processing, buffer.BATCH)
    buffer.write(redis_buffer.lrange(processing, 0, -1))

    buffer.flush()

    assert sorted(ConsentRecord.objects.values_list("categories", flat=True)) == [[], ["analytics"]]
    assert buffer.waiting() == 0


@pytest.mark.obligation("P18")
def test_a_flush_that_outlives_its_lock_loses_nothing_the_next_flusher_parked(client, db, choice, redis_buffer, monkeypatch):
    post(client, {**choice, "categories": ["analytics"]})
    post(client, {**choice, "categories": []})
    queue, processing, lock = buffer._keys()
    insert = buffer.write

    def slow_insert(encoded):
        # The database is slow: while this INSERT runs, the first flusher's lock expires,
        # a second flusher takes the lock and parks a record that arrived meanwhile.
        monkeypatch.setattr(buffer, "write", insert)
        redis_buffer.set(lock, "second flusher")
        post(client, {**choice, "categories": ["marketing"]})
        redis_buffer.eval(buffer._TAKE, 2, queue, processing, buffer.BATCH)
        insert(encoded)

    monkeypatch.setattr(buffer, "write", slow_insert)
    assert buffer.flush() == 2

    assert redis_buffer.get(lock) == b"second flusher"  # the first flusher left the lock it no longer held
    redis_buffer.delete(lock)  # the second flusher is done with it
    assert buffer.flush() == 1
    assert sorted(ConsentRecord.objects.values_list("categories", flat=True)) == [[], ["analytics"], ["marketing"]]
    assert buffer.waiting() == 0


def test_a_long_queue_is_flushed_by_the_request_that_finds_it(client, db, choice, redis_buffer, monkeypatch):
    monkeypatch.setattr(buffer, "FLUSH_AT", 3)

    for _ in range(3):
        post(client, choice)

    assert ConsentRecord.objects.count() == 3 and buffer.waiting() == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, 403),
        ({"HTTP_SEC_FETCH_SITE": "same-site"}, 403),
        ({"HTTP_SEC_FETCH_SITE": None, "HTTP_ORIGIN": "https://evil.example"}, 403),
        ({"HTTP_SEC_FETCH_SITE": None}, 403),
        ({"HTTP_SEC_FETCH_SITE": None, "HTTP_ORIGIN": "http://testserver"}, 201),
    ],
)
def test_only_the_sites_own_pages_can_record_a_choice(client, db, choice, headers, status):
    headers = {k: v for k, v in headers.items() if v is not None}
    if "HTTP_SEC_FETCH_SITE" not in headers:
        response = client.post(ENDPOINT, data=json.dumps(choice), content_type="application/json", **headers)
    else:
        response = post(client, choice, **headers)

    assert response.status_code == status
    assert consent_log().count() == (1 if status == 201 else 0)


def test_a_form_post_cannot_record_a_choice(client, db, choice):
    response = client.post(ENDPOINT, data={"categories": "analytics"}, HTTP_SEC_FETCH_SITE="same-origin")

    assert response.status_code == 415
    assert not consent_log().exists()


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"categories": ["advertising"]}, 400, "categories"),
        ({"categories": ["necessary"]}, 400, "categories"),
        ({"policy_version": 7}, 400, "Cookie policy version 7 is not published."),
        ({"policy_version": "one"}, 400, "policy_version"),
        ({"banner_version": "0123456789ab"}, 409, "The cookie banner has changed"),
        ({"consent_id": "not-a-uuid"}, 400, "consent_id"),
    ],
)
def test_a_malformed_choice_is_refused_with_a_reason(client, db, choice, change, status, message):
    response = post(client, {**choice, **change})

    assert response.status_code == status
    assert message in json.dumps(response.json())
    assert not consent_log().exists()


def test_invalid_json_and_oversized_bodies_are_refused(client, db):
    bad = client.post(ENDPOINT, data="{nope", content_type="application/json", HTTP_SEC_FETCH_SITE="same-origin")
    big = client.post(ENDPOINT, data=" " * 5000, content_type="application/json", HTTP_SEC_FETCH_SITE="same-origin")

    assert (bad.status_code, big.status_code) == (400, 413)


def test_a_body_beyond_djangos_upload_limit_gets_the_same_json_answer(client, db, settings):
    huge = " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(ENDPOINT, data=huge, content_type="application/json", HTTP_SEC_FETCH_SITE="same-origin")

    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}
    assert not consent_log().exists()


@pytest.mark.obligation("P32", "P01")
def test_consent_records_are_in_the_personal_data_registry_with_twelve_months_retention():
    entry = privacy.registration_for(ConsentRecord)

    assert entry.category == privacy.Category.COOKIE_CONSENT
    assert (entry.retention.days, entry.retention.after, entry.erasure) == (365, "created_at", privacy.Action.DELETE)


def test_the_buffer_is_flushed_and_the_purge_runs_from_the_beat_schedule(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["cookies.tasks.flush_consent_buffer"] == datetime.timedelta(seconds=10)
    # The 12-month purge is the retention engine's (tests/compliance/test_retention.py).
    assert schedule["compliance.tasks.retention_purge"] == datetime.timedelta(days=1)


@pytest.mark.obligation("P18", "P35")
def test_staff_find_a_visitors_records_by_the_consent_id_they_quote(client, db, compliance_officer, choice):
    consent_id = post(client, choice).json()["consent_id"]
    post(client, {**choice, "categories": []})  # someone else
    login(client, compliance_officer)

    found = client.get("/admin/cookies/consentrecord/", {"q": consent_id.upper()})
    garbled = client.get("/admin/cookies/consentrecord/", {"q": "my consent"})

    assert found.context["cl"].result_count == 1
    assert consent_id in found.content.decode()
    assert garbled.context["cl"].result_count == 0
    assert "is not a consent ID" in garbled.content.decode()


def test_consent_records_cannot_be_edited_or_deleted_in_the_admin(client, db, compliance_officer, choice):
    post(client, choice)
    record = consent_log().get()
    login(client, compliance_officer)

    response = client.post(f"/admin/cookies/consentrecord/{record.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_the_consent_cookie_seal_is_unchanged_for_cookies_already_in_browsers():
    from django.utils.crypto import salted_hmac

    from cookies import consent_cookie

    consent_hex = "3f1c2b9e8d4a4c6f9a7e2b5d8c1e4f60"

    assert (
        consent_cookie._seal(consent_hex)
        == salted_hmac("cookies.consent_cookie", consent_hex, algorithm="sha256").hexdigest()[:20]
    )
