"""The REST API under /api/v1/orgs/<org_id>/: the same rules as the portal, errors in DRF's shape."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import APIKey
from consumers import services
from consumers.models import ConsentRecord, Consumer, ContactList, ImportJob, Suppression
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.consumers.conftest import ATTESTATION, csv_bytes, load_registers, make_list, run_import, upload
from tests.factories import APIKeyFactory

ROWS = csv_bytes(
    ["Name", "Mobile", "Email", "Notes"],
    ["Ada Lovelace", "07911 123456", "ada@example.org", "VIP"],
    ["Bob", "020 7946 0001", "", ""],
    ["Bad", "123", "", ""],
)

JAN = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)


def url(name, org, *args):
    return reverse(f"consumers-api:{name}", args=[org.pk, *args])


def post_json(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


@pytest.fixture
def imported(service_list, owner):
    job = run_import(service_list, owner, ROWS)
    return job, Consumer.objects.get(phone_index__matches="07911123456")


@pytest.mark.obligation("P10", "P19")
def test_a_whole_import_through_the_api(owner_client, organisation):
    created = post_json(owner_client, url("lists", organisation), {"name": "Boiler customers", "purpose": "service"})
    assert created.status_code == 201
    list_id = created.json()["id"]
    assert created.json()["unusable_reasons"] == [
        "No lawful basis has been attested for this list.",
        "No import into this list has completed.",
    ]
    attested = post_json(
        owner_client,
        url("list-attestation", organisation, list_id),
        {"basis": "contract", "wording": "Our own customers, who asked us to call about servicing."},
    )
    assert attested.status_code == 201 and attested.json()["attestation"]["basis"] == "contract"

    uploaded = owner_client.post(url("list-imports", organisation, list_id), {"file": upload(ROWS)})
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert body["columns"] == ["Name", "Mobile", "Email", "Notes"]
    assert body["suggested_mapping"] == {"0": "name", "1": "phone", "2": "email"}
    assert body["preview"][0] == ["Ada Lovelace", "07911 123456", "ada@example.org", "VIP"]
    assert body["progress"]["status"] == "uploaded"

    started = post_json(owner_client, url("import-start", organisation, body["id"]), {"mapping": body["suggested_mapping"]})
    assert started.status_code == 202
    assert started.json()["dropped_columns"] == [{"column": "Notes", "reason": "not_needed"}]
    services.import_job_run(job_id=body["id"])

    progress = owner_client.get(url("import", organisation, body["id"])).json()["progress"]
    assert {k: progress[k] for k in ("status", "rows_read", "accepted", "rejected", "suppressed", "duplicates", "percent")} == {
        "status": "completed",
        "rows_read": 3,
        "accepted": 2,
        "rejected": 1,
        "suppressed": 0,
        "duplicates": 0,
        "percent": 100,
    }
    report = owner_client.get(url("import-problems", organisation, body["id"]))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        b"".join(report.streaming_content).decode().splitlines()[1]
        == '"4","Mobile","123","Not a valid number for its country.","Not imported"'
    )
    assert AuditEvent.objects.filter(action="personal_data.exported").count() == 1
    assert owner_client.get(url("list", organisation, list_id)).json()["unusable_reasons"] == []


def test_api_errors_name_the_field_and_say_why(owner_client, organisation, service_list):
    duplicate = post_json(owner_client, url("lists", organisation), {"name": "customers", "purpose": "service"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"name": ["You already have a list with this name."]}

    bad_file = owner_client.post(url("list-imports", organisation, service_list.pk), {"file": upload(b"%PDF-1.4")})
    assert bad_file.status_code == 400
    assert bad_file.json()["file"][0].startswith("This is a PDF document, not a CSV file.")

    no_file = owner_client.post(url("list-imports", organisation, service_list.pk), {})
    assert no_file.json() == {"file": ["Send the CSV file in the multipart field “file”."]}
    assert not ImportJob.objects.exists()


def test_a_bad_mapping_through_the_api_is_refused(owner_client, organisation, service_list, owner):
    job = services.import_job_create(contact_list=service_list, upload=upload(ROWS), uploaded_by=owner)

    response = post_json(owner_client, url("import-start", organisation, job.pk), {"mapping": {"0": "name"}})

    assert response.status_code == 400
    assert response.json() == {"mapping": ["Choose the column that holds the phone number."]}

    superscript = post_json(owner_client, url("import-start", organisation, job.pk), {"mapping": {"²": "phone"}})
    assert superscript.status_code == 400
    assert "Column ² does not exist in the file." in superscript.json()["mapping"]


def test_search_by_phone_or_email_through_the_api(owner_client, organisation, imported):
    _, ada = imported
    found = post_json(owner_client, url("consumer-search", organisation), {"phone": "+44 7911 123456"}).json()["results"]
    assert [c["id"] for c in found] == [ada.pk]
    found = post_json(owner_client, url("consumer-search", organisation), {"email": "ADA@EXAMPLE.ORG"}).json()["results"]
    assert [c["name"] for c in found] == ["Ada Lovelace"]

    assert post_json(owner_client, url("consumer-search", organisation), {"phone": "12"}).json() == {
        "phone": ["Not a valid number for its country."]
    }
    assert post_json(owner_client, url("consumer-search", organisation), {}).json() == {
        "non_field_errors": ["Give a phone number or an e-mail address."]
    }


@pytest.mark.obligation("P15", "P26")
def test_reading_or_finding_a_consumer_through_the_api_is_audited(organisation, imported):
    _, ada = imported
    client, key = _key_client(organisation)

    assert client.get(url("consumer", organisation, ada.pk)).status_code == 200
    assert post_json(client, url("consumer-search", organisation), {"email": "ada@example.org"}).status_code == 200

    events = AuditEvent.objects.filter(action="personal_data.revealed").order_by("sequence")
    assert [(e.actor_label, e.target_id, e.details) for e in events] == [
        (f"api_key:{key.pk}", str(ada.pk), {"view": "consumer record"}),
        (f"api_key:{key.pk}", "", {"view": "consumer search", "rows": 1}),
    ]


@pytest.mark.obligation("P18", "P38", "P40", "P41")
def test_consumer_rights_and_consent_through_the_api(owner_client, organisation, imported):
    _, ada = imported
    given = post_json(
        owner_client,
        url("consumer-consents", organisation, ada.pk),
        {
            "purpose": "marketing_calls",
            "method": "web_form",
            "occurred_at": "2026-01-05T10:00:00Z",
            "wording_version": "v3",
            "source_reference": "FORM-1",
        },
    )
    assert given.status_code == 201 and given.json()["action"] == "given"

    future = post_json(
        owner_client,
        url("consumer-consents", organisation, ada.pk),
        {
            "purpose": "marketing_calls",
            "method": "web_form",
            "occurred_at": "2999-01-01T10:00:00Z",
            "wording_version": "v3",
        },
    )
    assert future.status_code == 400 and future.json() == {"occurred_at": ["The date is in the future."]}

    withdrawn = post_json(
        owner_client, url("consumer-withdrawals", organisation, ada.pk), {"purpose": "marketing_calls", "method": "email"}
    )
    assert withdrawn.status_code == 201

    restricted = post_json(owner_client, url("consumer-restriction", organisation, ada.pk), {"reason": "Disputes data"})
    assert restricted.json()["restricted_at"] is not None and restricted.json()["restriction_reason"] == "Disputes data"
    assert owner_client.delete(url("consumer-restriction", organisation, ada.pk)).json()["restricted_at"] is None

    objected = post_json(owner_client, url("consumer-objection", organisation, ada.pk), {"reason": "opt_out"})
    detail = objected.json()
    assert detail["objected_at"] is not None and detail["suppressed"] is True
    assert detail["consent"] == {"marketing_calls": False, "automated_calls": False}
    assert [(c["action"], c["purpose"]) for c in detail["consents"]] == [
        ("withdrawn", "marketing_calls"),
        ("given", "marketing_calls"),
    ]


@pytest.mark.obligation("P48")
def test_a_consumer_under_16_is_deleted_through_the_api(owner_client, organisation, imported):
    _, ada = imported
    assert post_json(owner_client, url("consumer-under-16", organisation, ada.pk)).status_code == 204
    assert not Consumer.objects.filter(pk=ada.pk).exists()


@pytest.mark.obligation("P40")
def test_the_do_not_call_list_through_the_api(owner_client, organisation):
    added = post_json(owner_client, url("suppressions", organisation), {"phone": "07911 123456", "reason": "objection"})
    assert added.status_code == 201 and added.json()["reason"] == "objection"
    assert Suppression.objects.get().organisation == organisation
    check = post_json(owner_client, url("suppression-check", organisation), {"phone": "+447911123456"})
    assert check.json() == {"suppressed": True}
    bad = post_json(owner_client, url("suppressions", organisation), {"phone": "hello"})
    assert bad.status_code == 400 and "phone" in bad.json()


def _every_endpoint(org, contact_list, job, consumer):
    return [
        ("get", url("lists", org)),
        ("post", url("lists", org)),
        ("get", url("list", org, contact_list.pk)),
        ("delete", url("list", org, contact_list.pk)),
        ("post", url("list-attestation", org, contact_list.pk)),
        ("post", url("list-screening", org, contact_list.pk)),
        ("post", url("list-imports", org, contact_list.pk)),
        ("get", url("import", org, job.pk)),
        ("delete", url("import", org, job.pk)),
        ("post", url("import-start", org, job.pk)),
        ("get", url("import-problems", org, job.pk)),
        ("post", url("consumer-search", org)),
        ("get", url("consumer", org, consumer.pk)),
        ("post", url("consumer-restriction", org, consumer.pk)),
        ("delete", url("consumer-restriction", org, consumer.pk)),
        ("post", url("consumer-objection", org, consumer.pk)),
        ("post", url("consumer-consents", org, consumer.pk)),
        ("post", url("consumer-withdrawals", org, consumer.pk)),
        ("post", url("consumer-under-16", org, consumer.pk)),
        ("post", url("suppressions", org)),
        ("post", url("suppression-check", org)),
    ]


@pytest.mark.obligation("P04")
def test_every_endpoint_is_a_404_for_an_outsider(client, organisation, imported, outsider):
    job, ada = imported
    login(client, outsider)
    for method, path in _every_endpoint(organisation, job.contact_list, job, ada):
        response = getattr(client, method)(path, content_type="application/json") if method != "get" else client.get(path)
        assert response.status_code == 404, (method, path)
    assert Consumer.objects.count() == 2 and ContactList.objects.count() == 1


@pytest.mark.obligation("P04")
def test_an_outsider_cannot_reach_our_rows_through_their_own_organisation(client, other_organisation, imported, outsider):
    job, ada = imported
    login(client, outsider)
    assert client.get(url("consumer", other_organisation, ada.pk)).status_code == 404
    assert client.get(url("import", other_organisation, job.pk)).status_code == 404
    assert client.get(url("list", other_organisation, job.contact_list.pk)).status_code == 404
    assert post_json(client, url("consumer-search", other_organisation), {"phone": "07911123456"}).json() == {"results": []}


def test_a_viewer_may_read_but_not_write(client, organisation, imported, teammate):
    job, ada = imported
    login(client, teammate)
    assert client.get(url("consumer", organisation, ada.pk)).status_code == 200
    assert post_json(client, url("consumer-search", organisation), {"phone": "07911123456"}).status_code == 200
    assert post_json(client, url("suppression-check", organisation), {"phone": "07911123456"}).status_code == 200
    for method, path in _every_endpoint(organisation, job.contact_list, job, ada):
        if method == "get" or path.endswith(("search/", "check/")):
            continue
        assert getattr(client, method)(path, content_type="application/json").status_code == 403, (method, path)
    assert client.get(url("import-problems", organisation, job.pk)).status_code == 403  # exporting needs export_data
    assert not ConsentRecord.objects.exists() and Consumer.objects.count() == 2


def test_the_api_needs_a_signed_in_user(client, organisation, imported):
    job, ada = imported
    for method, path in _every_endpoint(organisation, job.contact_list, job, ada):
        response = getattr(client, method)(path, content_type="application/json") if method != "get" else client.get(path)
        assert response.status_code in (401, 403), (method, path)


# --- Integrations calling with an API key ---------------------------------------------


def _key_client(organisation):
    key = APIKeyFactory(organisation=organisation)  # read-write
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}"), key


@pytest.mark.obligation("P26")
def test_every_write_works_with_a_read_write_api_key_and_the_audit_trail_names_the_key(organisation, owner):
    client, key = _key_client(organisation)
    load_registers()

    created = post_json(client, url("lists", organisation), {"name": "CRM sync", "purpose": "service"})
    assert created.status_code == 201
    contact_list = ContactList.objects.get(pk=created.json()["id"])
    services.contact_list_attest(contact_list=contact_list, basis="contract", wording=ATTESTATION, by=owner)
    uploaded = client.post(url("list-imports", organisation, contact_list.pk), {"file": upload(ROWS)})
    assert uploaded.status_code == 201
    assert client.delete(url("import", organisation, uploaded.json()["id"])).status_code == 204
    job_id = client.post(url("list-imports", organisation, contact_list.pk), {"file": upload(ROWS)}).json()["id"]
    mapping = {"0": "name", "1": "phone", "2": "email"}
    assert post_json(client, url("import-start", organisation, job_id), {"mapping": mapping}).status_code == 202
    services.import_job_run(job_id=job_id)
    ada = Consumer.objects.get(phone_index__matches="07911123456")
    bob = Consumer.objects.get(phone_index__matches="02079460001")

    consent = {"purpose": "marketing_calls", "method": "web_form", "occurred_at": "2026-01-05T10:00:00Z", "wording_version": "v3"}
    responses = [
        post_json(client, url("consumer-consents", organisation, ada.pk), consent),
        post_json(client, url("consumer-withdrawals", organisation, ada.pk), {"purpose": "marketing_calls", "method": "email"}),
        post_json(client, url("consumer-restriction", organisation, ada.pk), {"reason": "Disputes data"}),
        client.delete(url("consumer-restriction", organisation, ada.pk)),
        post_json(client, url("consumer-objection", organisation, ada.pk), {"reason": "opt_out"}),
        post_json(client, url("consumer-under-16", organisation, bob.pk)),
        post_json(client, url("suppressions", organisation), {"phone": "0113 496 0000"}),
        post_json(client, url("list-screening", organisation, make_list(organisation, owner, purpose="marketing").pk)),
        client.delete(url("list", organisation, contact_list.pk)),
    ]

    assert [r.status_code for r in responses] == [201, 201, 200, 200, 200, 204, 201, 200, 204]
    written = AuditEvent.objects.exclude(action__in=["contact_list.attested", "contact_list.imported"])
    assert {e.action for e in written} >= {
        "contact_list.file_uploaded",
        "contact_list.upload_discarded",
        "contact_list.import_started",
        "consent.recorded",
        "consent.withdrawn",
        "consumer.restricted",
        "consumer.unrestricted",
        "consumer.objected",
        "suppression.added",
        "consumer.deleted_under_16",
        "contact_list.screened",
        "contact_list.deleted",
    }
    assert {(e.actor_id, e.actor_label) for e in written} == {(None, f"api_key:{key.pk}")}


@pytest.mark.obligation("P19")
def test_an_attestation_sent_with_a_key_names_the_key_and_the_person_who_created_it(organisation, owner):
    # Given a read-write key created by the owner, and a list nobody has attested yet
    key = APIKeyFactory(organisation=organisation, created_by=owner)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    contact_list = make_list(organisation, owner, attest=False)

    # When the integration attests the list's lawful basis
    response = post_json(
        client, url("list-attestation", organisation, contact_list.pk), {"basis": "contract", "wording": ATTESTATION}
    )

    # Then the evidence names the key and the owner who answers for it
    assert response.status_code == 201
    attestation = contact_list.attestations.get()
    assert (attestation.attested_by, attestation.api_key, attestation.wording) == (owner, key, ATTESTATION)


@pytest.mark.obligation("P19")
def test_a_key_whose_creator_can_no_longer_manage_contacts_cannot_attest(organisation, owner, teammate):
    # Given a key created by someone who is now a viewer
    key = APIKeyFactory(organisation=organisation, created_by=teammate)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    contact_list = make_list(organisation, owner, attest=False)

    # When it tries to attest
    response = post_json(
        client, url("list-attestation", organisation, contact_list.pk), {"basis": "contract", "wording": ATTESTATION}
    )

    # Then it is refused, saying who must act, and no attestation is recorded
    assert response.status_code == 400
    assert "can no longer manage contacts" in response.json()["non_field_errors"][0]
    assert not contact_list.attestations.exists()


def test_listing_contact_lists_takes_as_many_queries_for_many_lists_as_for_one(owner_client, organisation, owner):
    def add_list(name):
        contact_list = make_list(organisation, owner, name=name)
        run_import(contact_list, owner, csv_bytes(["Phone"], ["07911 123456"], ["020 7946 0001"]))

    add_list("First")
    owner_client.get(url("lists", organisation))  # the session's first request may write to it
    with CaptureQueriesContext(connection) as one_list:
        assert len(owner_client.get(url("lists", organisation)).json()["results"]) == 1
    for n in range(2, 6):
        add_list(f"List {n}")
    with CaptureQueriesContext(connection) as five_lists:
        results = owner_client.get(url("lists", organisation)).json()["results"]

    assert len(five_lists) == len(one_list)
    assert [(r["consumers"], r["attestation"]["basis"], r["unusable_reasons"]) for r in results] == [(2, "contract", [])] * 5


def test_a_search_finding_many_people_takes_as_many_queries_as_one_finding_one(owner_client, organisation, owner):
    # A CRM placeholder address ("none@...") can be shared by many people.
    contact_list = make_list(organisation, owner)
    rows = [[f"07911 1234{n:02d}", "none@example.org"] for n in range(6)]
    run_import(contact_list, owner, csv_bytes(["Phone", "Email"], *rows))
    first, second = Consumer.objects.order_by("id")[:2]
    services.consent_record(consumer=first, purpose="marketing_calls", method="verbal", occurred_at=JAN, wording="Yes")
    services.consent_record(consumer=second, purpose="marketing_calls", method="verbal", occurred_at=JAN, wording="Yes")
    services.consent_withdraw(consumer=second, purpose="marketing_calls", method="verbal")
    services.suppression_add(phone="07911 123405", organisation=organisation, reason="opt_out", source="client_request")
    search = url("consumer-search", organisation)
    post_json(owner_client, search, {"phone": "07911 123400"})  # the session's first request may write to it
    with CaptureQueriesContext(connection) as finding_one:
        assert len(post_json(owner_client, search, {"phone": "07911 123400"}).json()["results"]) == 1
    with CaptureQueriesContext(connection) as finding_six:
        found = post_json(owner_client, search, {"email": "none@example.org"}).json()["results"]

    assert len(finding_six) == len(finding_one)
    assert [(c["lists"], c["consent"]["marketing_calls"], c["suppressed"]) for c in found] == [
        ([contact_list.pk], True, False),
        ([contact_list.pk], False, False),
        ([contact_list.pk], False, False),
        ([contact_list.pk], False, False),
        ([contact_list.pk], False, False),
        ([contact_list.pk], False, True),
    ]


# --- What an integrator does with a read-write key, end to end ----------------------------


@pytest.mark.obligation("P19")
def test_a_key_uploads_attests_and_starts_an_import_in_one_call_and_fixes_the_rejected_rows(organisation, owner):
    # Given a read-write key its owner created, and a new list
    key = APIKeyFactory(organisation=organisation, created_by=owner)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    list_id = post_json(client, url("lists", organisation), {"name": "CRM sync", "purpose": "service"}).json()["id"]
    uploaded = client.post(url("list-imports", organisation, list_id), {"file": upload(ROWS)}).json()

    # When it starts the import with the attestation in the same call
    attestation = {"basis": "contract", "wording": ATTESTATION}
    started = post_json(
        client,
        url("import-start", organisation, uploaded["id"]),
        {"mapping": uploaded["suggested_mapping"], "attestation": attestation},
    )
    services.import_job_run(job_id=uploaded["id"])

    # Then the list is attested by the key's creator, and the key can fetch both reports
    assert started.status_code == 202
    assert ContactList.objects.get(pk=list_id).attestations.get().attested_by == owner
    rejected = client.get(url("import-rejected-rows", organisation, uploaded["id"]))
    report = client.get(url("import-problems", organisation, uploaded["id"]))
    assert (rejected.status_code, report.status_code) == (200, 200)
    assert b"".join(rejected.streaming_content).decode().splitlines() == [
        '\ufeff"Name","Mobile","Email","Notes"',
        '"Bad","123","",""',
    ]


def test_a_refused_start_records_no_attestation(organisation, owner):
    key = APIKeyFactory(organisation=organisation, created_by=owner)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    contact_list = make_list(organisation, owner, attest=False)
    job_id = client.post(url("list-imports", organisation, contact_list.pk), {"file": upload(ROWS)}).json()["id"]

    refused = post_json(
        client,
        url("import-start", organisation, job_id),
        {"mapping": {"0": "name"}, "attestation": {"basis": "contract", "wording": ATTESTATION}},
    )

    assert refused.status_code == 400 and "Choose the column that holds the phone number." in refused.json()["mapping"]
    assert not contact_list.attestations.exists()


def test_the_people_on_a_list_are_paged_and_filtered_by_state(owner_client, organisation, imported, owner):
    job, ada = imported
    services.consumer_restrict(consumer=ada, by=owner)

    everyone = owner_client.get(url("list-members", organisation, job.contact_list_id)).json()
    restricted = owner_client.get(url("list-members", organisation, job.contact_list_id) + "?state=restricted").json()
    active = owner_client.get(url("list-members", organisation, job.contact_list_id) + "?state=active").json()
    wrong = owner_client.get(url("list-members", organisation, job.contact_list_id) + "?state=asleep")

    assert everyone["count"] == 2 and {m["state"] for m in everyone["results"]} == {"restricted", "active"}
    assert [m["phone"] for m in restricted["results"]] == ["+447911123456"]
    assert [m["name"] for m in active["results"]] == ["Bob"]
    assert wrong.status_code == 400 and "state" in wrong.json()


def test_a_read_only_key_sees_members_masked(organisation, imported):
    job, _ = imported
    key = APIKeyFactory(organisation=organisation, scope=APIKey.Scope.READ_ONLY)

    members = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}").get(url("list-members", organisation, job.contact_list_id))

    ada = next(m for m in members.json()["results"] if m["phone"].endswith("456"))
    assert ada == {**ada, "name": None, "phone": "••• ••• 456", "email": "a•••@•••.org"}


def test_a_list_export_is_for_signed_in_people_who_may_export_not_for_keys(owner_client, organisation, imported):
    job, _ = imported
    key_client, _ = _key_client(organisation)

    exported = owner_client.get(url("list-export", organisation, job.contact_list_id))
    refused = key_client.get(url("list-export", organisation, job.contact_list_id))

    assert exported.status_code == 200
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert lines[0] == '\ufeff"Name","Phone","Email","Date of birth","Postcode","Time zone","State","Added"' and len(lines) == 3
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/json")
