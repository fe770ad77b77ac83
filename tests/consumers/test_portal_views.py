"""The portal pages: who may see and do what, and that every page works end to end."""

import pytest
from django.urls import reverse

from consumers import services
from consumers.models import ConsentRecord, Consumer, ContactList, ImportJob, Suppression
from nextsupport.models import AuditEvent
from tests.conftest import login
from tests.consumers.conftest import csv_bytes, make_list, run_import, upload

ROWS = csv_bytes(
    ["Name", "Mobile", "Email", "Religion"],
    ["Ada Lovelace", "07911 123456", "ada@example.org", "Quaker"],
    ["Bob", "020 7946 0001", "", ""],
)


@pytest.fixture
def imported(service_list, owner):
    job = run_import(service_list, owner, ROWS)
    return job, Consumer.objects.get(phone_index__matches="07911123456")


def _urls(org, contact_list, job, consumer):
    return {
        "consumers:lists": [org.pk],
        "consumers:list-new": [org.pk],
        "consumers:list": [org.pk, contact_list.pk],
        "consumers:list-upload": [org.pk, contact_list.pk],
        "consumers:list-attest": [org.pk, contact_list.pk],
        "consumers:list-delete": [org.pk, contact_list.pk],
        "consumers:import": [org.pk, job.pk],
        "consumers:import-progress": [org.pk, job.pk],
        "consumers:import-problems": [org.pk, job.pk],
        "consumers:search": [org.pk],
        "consumers:consumer": [org.pk, consumer.pk],
        "consumers:consumer-correct": [org.pk, consumer.pk],
        "consumers:consumer-objection": [org.pk, consumer.pk],
        "consumers:consumer-consent": [org.pk, consumer.pk],
        "consumers:consumer-withdraw": [org.pk, consumer.pk],
        "consumers:consumer-under-16": [org.pk, consumer.pk],
        "consumers:suppressions": [org.pk],
    }


@pytest.mark.obligation("P04")
def test_every_page_of_an_organisation_is_a_404_for_an_outsider(client, organisation, imported, outsider):
    job, consumer = imported
    login(client, outsider)
    for name, args in _urls(organisation, job.contact_list, job, consumer).items():
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name in ["consumers:list-screen", "consumers:import-discard", "consumers:consumer-restriction"]:
        target = {"consumers:list-screen": job.contact_list.pk, "consumers:import-discard": job.pk}.get(name, consumer.pk)
        assert client.post(reverse(name, args=[organisation.pk, target])).status_code == 404, name


@pytest.mark.obligation("P04")
def test_an_outsider_cannot_reach_our_rows_through_their_own_organisation(
    client, organisation, other_organisation, imported, outsider
):
    job, consumer = imported
    login(client, outsider)
    theirs = other_organisation.pk
    assert client.get(reverse("consumers:consumer", args=[theirs, consumer.pk])).status_code == 404
    assert client.get(reverse("consumers:list", args=[theirs, job.contact_list.pk])).status_code == 404
    assert client.get(reverse("consumers:import", args=[theirs, job.pk])).status_code == 404
    response = client.post(reverse("consumers:search", args=[theirs]), {"phone": "07911 123456"})
    assert "No match" in response.content.decode()


def test_every_page_renders_for_the_owner(owner_client, organisation, imported):
    job, consumer = imported
    for name, args in _urls(organisation, job.contact_list, job, consumer).items():
        response = owner_client.get(reverse(name, args=args))
        assert response.status_code == 200, name


def test_a_viewer_may_look_but_not_change_anything(client, organisation, imported, teammate):
    job, consumer = imported
    login(client, teammate)
    org = organisation.pk
    assert client.get(reverse("consumers:consumer", args=[org, consumer.pk])).status_code == 200
    assert client.get(reverse("consumers:list", args=[org, job.contact_list.pk])).status_code == 200
    for name, target in [
        ("consumers:list-new", None),
        ("consumers:list-upload", job.contact_list.pk),
        ("consumers:consumer-consent", consumer.pk),
        ("consumers:consumer-under-16", consumer.pk),
        ("consumers:consumer-correct", consumer.pk),  # the viewer does not see personal data
        ("consumers:import-problems", job.pk),
    ]:
        args = [org] if target is None else [org, target]
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("consumers:consumer-restriction", args=[org, consumer.pk])).status_code == 403
    response = client.post(
        reverse("consumers:suppressions", args=[org]), {"action": "add", "add-phone": "07911 123456", "add-reason": "opt_out"}
    )
    assert response.status_code == 403
    assert not Suppression.objects.exists()


@pytest.mark.obligation("P10", "P19")
def test_upload_map_and_import_through_the_portal(owner_client, organisation, owner):
    org = organisation.pk
    response = owner_client.post(
        reverse("consumers:list-new", args=[org]),
        {"name": "Boiler customers", "purpose": "service", "file": upload(ROWS)},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("consumers:import", args=[org, job.pk])

    page = owner_client.get(response["Location"]).content.decode()
    assert "Ada Lovelace" in page  # the preview of the first rows
    assert "Looks like special-category data" in page  # the Religion column can never be mapped
    assert 'name="column_3"' not in page

    response = owner_client.post(
        reverse("consumers:import", args=[org, job.pk]),
        {
            "column_0": "name",
            "column_1": "phone",
            "column_2": "email",
            "attest_basis": "contract",
            "attest_wording": "They are our customers and asked us to call about their boiler service.",
            "attest_confirm": "on",
        },
    )
    assert response.status_code == 302
    services.import_job_run(job_id=job.pk)  # the worker's part

    result = owner_client.get(response["Location"]).content.decode()
    assert "Import finished: 2 people imported." in result
    assert "Religion: looks like special-category data, which we never hold" in result
    job.refresh_from_db()
    assert job.dropped_columns == [{"column": "Religion", "reason": "special_category"}]
    attestation = job.contact_list.attestations.get()
    assert (attestation.attested_by, attestation.basis) == (owner, "contract")


def test_an_unreadable_file_is_refused_on_the_form_and_leaves_no_list(owner_client, organisation):
    response = owner_client.post(
        reverse("consumers:list-new", args=[organisation.pk]),
        {"name": "Oops", "purpose": "service", "file": upload(b"PK\x03\x04binary", name="contacts.xlsx")},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is an Excel workbook or another zipped file" in html
    assert 'aria-invalid="true"' in html and 'class="error-summary"' in html
    assert not ContactList.objects.exists() and not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (2_030_000, "The file is 2.03 MB, more than the 2 MB limit."),  # read, then refused
        (9_000_000, "The file is 9 MB, more than the 2 MB limit."),  # refused before the body is read
    ],
)
def test_a_file_over_the_limit_is_refused_and_leaves_nothing(owner_client, organisation, settings, size, message):
    settings.CONTACT_IMPORT_MAX_BYTES = 2_000_000
    big = (b"Phone\r\n" + b"07911 123456\r\n" * size)[:size]
    response = owner_client.post(
        reverse("consumers:list-new", args=[organisation.pk]), {"name": "Big", "purpose": "service", "file": upload(big)}
    )
    assert message in response.content.decode()
    assert not ContactList.objects.exists() and not ImportJob.objects.exists()


def test_mapping_errors_are_shown_and_nothing_starts(owner_client, organisation, service_list, owner):
    job = services.import_job_create(contact_list=service_list, upload=upload(ROWS), uploaded_by=owner)
    response = owner_client.post(reverse("consumers:import", args=[organisation.pk, job.pk]), {"column_0": "name"})
    assert "Choose the column that holds the phone number." in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_progress_is_reported_as_json(owner_client, organisation, imported):
    job, _ = imported
    figures = owner_client.get(reverse("consumers:import-progress", args=[organisation.pk, job.pk])).json()
    assert figures | {"percent": 100} == figures
    assert (figures["rows_read"], figures["accepted"], figures["rejected"], figures["duplicates"]) == (2, 2, 0, 0)


@pytest.mark.obligation("P15")
def test_the_error_report_is_a_safe_csv_and_its_download_is_audited(owner_client, organisation, service_list, owner):
    job = run_import(service_list, owner, csv_bytes(["Phone", "Email"], ['=HYPERLINK("http://x")', ""], ["07911 123456", "@bad"]))
    response = owner_client.get(reverse("consumers:import-problems", args=[organisation.pk, job.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == [
        '\ufeff"Row","Column","Value","Problem","Outcome"',
        '"2","Phone","\'=HYPERLINK(""http://x"")","Not a phone number.","Not imported"',
        '"3","Email","\'@bad","Not a valid e-mail address.","Imported without this value"',
    ]
    event = AuditEvent.objects.get(action="personal_data.exported")
    assert event.details == {"export": "import error report", "rows": 2}


@pytest.mark.obligation("P15")
def test_showing_the_people_on_a_list_is_an_audited_bulk_read(owner_client, organisation, imported):
    job, _ = imported
    owner_client.get(reverse("consumers:list", args=[organisation.pk, job.contact_list.pk]))
    event = AuditEvent.objects.get(action="personal_data.revealed")
    assert event.details == {"view": "list members", "page": 1, "rows": 2}
    assert "Ada" not in str(event.details)


def test_search_by_phone_or_email_in_any_spelling(owner_client, organisation, imported):
    _, consumer = imported
    url = reverse("consumers:search", args=[organisation.pk])
    for query in [{"phone": "+44 7911 123456"}, {"email": "ADA@example.org"}]:
        html = owner_client.post(url, query).content.decode()
        assert reverse("consumers:consumer", args=[organisation.pk, consumer.pk]) in html
    html = owner_client.post(url, {"phone": "12"}).content.decode()
    assert "Enter a full UK phone number" in html


@pytest.mark.obligation("P38")
@pytest.mark.obligation("P36")
def test_the_client_corrects_a_consumers_details_and_can_clear_one(owner_client, organisation, imported, owner):
    _, consumer = imported
    url = reverse("consumers:consumer-correct", args=[organisation.pk, consumer.pk])
    assert "ada@example.org" in owner_client.get(url).content.decode()

    response = owner_client.post(url, {"name": "Ada King", "email": "", "date_of_birth": "", "postcode": "", "timezone": ""})

    assert response.status_code == 302
    consumer.refresh_from_db()
    assert (consumer.name, consumer.email, consumer.email_index) == ("Ada King", None, None)
    event = AuditEvent.objects.filter(action="consumer.corrected").get()
    assert event.details == {"fields": ["email", "name"]}  # names of fields only, never values


@pytest.mark.obligation("P36", "P48")
def test_a_correction_is_refused_with_a_reason_and_changes_nothing(owner_client, organisation, imported):
    _, consumer = imported
    url = reverse("consumers:consumer-correct", args=[organisation.pk, consumer.pk])

    response = owner_client.post(url, {"name": "Ada", "email": "ada@example.org", "date_of_birth": "01/01/2020"})

    assert response.status_code == 200
    assert "under 16" in response.content.decode()
    consumer.refresh_from_db()
    assert (consumer.name, consumer.date_of_birth) == ("Ada Lovelace", None)


def test_restrict_and_unrestrict_from_the_consumer_page(owner_client, organisation, imported):
    _, consumer = imported
    url = reverse("consumers:consumer-restriction", args=[organisation.pk, consumer.pk])
    owner_client.post(url, {"action": "restrict", "reason": "Disputes the data"})
    consumer.refresh_from_db()
    assert consumer.restricted_at is not None
    assert (
        "Disputes the data"
        in owner_client.get(reverse("consumers:consumer", args=[organisation.pk, consumer.pk])).content.decode()
    )
    owner_client.post(url, {"action": "unrestrict"})
    consumer.refresh_from_db()
    assert consumer.restricted_at is None


@pytest.mark.obligation("P15", "P26")
def test_opening_or_finding_a_consumer_record_is_audited_without_personal_data(owner_client, organisation, imported, owner):
    _, consumer = imported
    owner_client.get(reverse("consumers:consumer", args=[organisation.pk, consumer.pk]))
    owner_client.post(reverse("consumers:search", args=[organisation.pk]), {"phone": "07911 123456"})
    owner_client.post(reverse("consumers:search", args=[organisation.pk]), {"phone": "0113 496 0999"})  # finds nobody

    events = AuditEvent.objects.filter(action="personal_data.revealed").order_by("sequence")
    assert [(e.target_id, e.organisation_id, e.details) for e in events] == [
        (str(consumer.pk), organisation.pk, {"view": "consumer record"}),
        ("", organisation.pk, {"view": "consumer search", "rows": 1}),
    ]
    assert {e.actor_id for e in events} == {owner.pk}


@pytest.mark.obligation("P40", "P41")
def test_recording_an_opt_out_from_the_portal_stops_calls_at_once(owner_client, organisation, imported):
    _, consumer = imported
    url = reverse("consumers:consumer-objection", args=[organisation.pk, consumer.pk])
    owner_client.post(url, {"reason": "opt_out", "method": "verbal"})
    consumer.refresh_from_db()
    assert consumer.objected_at is not None
    assert Suppression.objects.get(organisation=organisation).reason == "opt_out"


@pytest.mark.obligation("P18", "P41")
def test_record_and_withdraw_consent_from_the_portal(owner_client, organisation, imported):
    _, consumer = imported
    org = organisation.pk
    response = owner_client.post(
        reverse("consumers:consumer-consent", args=[org, consumer.pk]),
        {
            "purpose": "marketing_calls",
            "method": "web_form",
            "occurred_at": "2026-01-05T10:30",
            "wording_version": "v2",
            "source_reference": "FORM-88",
        },
    )
    assert response.status_code == 302
    owner_client.post(
        reverse("consumers:consumer-withdraw", args=[org, consumer.pk]), {"purpose": "marketing_calls", "method": "verbal"}
    )
    actions = list(ConsentRecord.objects.filter(consumer=consumer).order_by("id").values_list("action", flat=True))
    assert actions == ["given", "withdrawn"]
    html = owner_client.get(reverse("consumers:consumer", args=[org, consumer.pk])).content.decode()
    assert "FORM-88" in html and "Withdrawn" in html


def test_consent_without_wording_or_version_is_refused_with_a_reason(owner_client, organisation, imported):
    _, consumer = imported
    response = owner_client.post(
        reverse("consumers:consumer-consent", args=[organisation.pk, consumer.pk]),
        {"purpose": "marketing_calls", "method": "web_form", "occurred_at": "2026-01-05T10:30"},
    )
    assert "Give the wording the person agreed to, or the version of your consent text." in response.content.decode()
    assert not ConsentRecord.objects.exists()


@pytest.mark.obligation("P48")
def test_a_consumer_found_to_be_under_16_is_deleted_from_the_portal(owner_client, organisation, imported):
    _, consumer = imported
    owner_client.post(reverse("consumers:consumer-under-16", args=[organisation.pk, consumer.pk]))
    assert not Consumer.objects.filter(pk=consumer.pk).exists()


def test_the_do_not_call_page_adds_and_checks_numbers(owner_client, organisation):
    url = reverse("consumers:suppressions", args=[organisation.pk])
    owner_client.post(url, {"action": "add", "add-phone": "07911 123456", "add-reason": "opt_out"})
    html = owner_client.post(url, {"action": "check", "check-phone": "+447911123456"}).content.decode()
    assert "This number will not be imported or called." in html
    html = owner_client.post(url, {"action": "check", "check-phone": "07412 345678"}).content.decode()
    assert "This number is not on the do-not-call list." in html


def test_deleting_a_list_from_the_portal(owner_client, organisation, imported):
    job, _ = imported
    owner_client.post(reverse("consumers:list-delete", args=[organisation.pk, job.contact_list.pk]))
    assert not ContactList.objects.exists() and not Consumer.objects.exists()


def test_deleting_a_list_while_its_import_runs_is_refused_with_a_message(owner_client, organisation, service_list, owner):
    job = services.import_job_create(contact_list=service_list, upload=upload(ROWS), uploaded_by=owner)
    services.import_job_start(job=job, mapping={"0": "name", "1": "phone"}, by=owner)

    response = owner_client.post(reverse("consumers:list-delete", args=[organisation.pk, service_list.pk]), follow=True)

    assert "is still running" in response.content.decode()
    assert ContactList.objects.filter(pk=service_list.pk).exists()


def test_screening_a_service_list_is_refused_with_a_message(owner_client, organisation, imported):
    job, _ = imported
    response = owner_client.post(reverse("consumers:list-screen", args=[organisation.pk, job.contact_list.pk]), follow=True)
    assert "Only marketing lists are screened" in response.content.decode()


def test_lists_page_for_a_new_client_invites_an_upload(owner_client, organisation):
    html = owner_client.get(reverse("consumers:lists", args=[organisation.pk])).content.decode()
    assert "No contact lists yet" in html and "Upload a list" in html


def test_attesting_separately(owner_client, organisation, owner):
    contact_list = make_list(organisation, owner, attest=False)
    response = owner_client.post(
        reverse("consumers:list-attest", args=[organisation.pk, contact_list.pk]),
        {"basis": "contract", "wording": "Existing customers who asked for a call back.", "confirm": "on"},
    )
    assert response.status_code == 302
    assert contact_list.attestations.count() == 1
