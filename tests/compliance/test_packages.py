"""The access and portability package holds every discovered item, readable by a person and a machine (P35, P39, P54)."""

import csv
import io
import json
import re
import zipfile

import pytest

from compliance import discovery
from compliance.packages import build_package
from nextsupport import privacy
from tests.compliance.conftest import AUDIO

pytestmark = pytest.mark.django_db


def open_package(subject) -> tuple[zipfile.ZipFile, discovery.Discovery]:
    found = discovery.find(subject)
    return zipfile.ZipFile(io.BytesIO(build_package(found))), found


def read_csv(archive, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


@pytest.mark.obligation("P35", "P39")
def test_the_package_contains_every_discovered_item(person):
    archive, found = open_package(person.subject)
    data = json.loads(archive.read("data.json"))

    in_json = {
        (entry["model"], entry["id"])
        for category in data["categories"].values()
        for entries in category["controllers"].values()
        for entry in entries
    }
    in_csv = {
        (row["model"], str(row["id"])) for name in archive.namelist() if name.endswith(".csv") for row in read_csv(archive, name)
    }
    discovered = {
        (item.label, str(item.obj.pk) if item.label == "cookies.ConsentRecord" else item.obj.pk) for item in found.items
    }

    assert in_json == discovered
    assert in_csv == {(label, str(pk)) for label, pk in discovered}


@pytest.mark.obligation("P39")
def test_items_are_grouped_by_category_and_controller(person):
    archive, _ = open_package(person.subject)
    data = json.loads(archive.read("data.json"))

    consumers = data["categories"]["consumer"]["controllers"]
    assert {f"organisation-{person.first.pk}", f"organisation-{person.second.pk}"} <= set(consumers)
    assert data["controllers"]["nextsupport"]["role"] == "controller"
    assert data["controllers"][f"organisation-{person.first.pk}"]["name"] == "Acme Energy Ltd"
    assert [e["phone"] for e in consumers[f"organisation-{person.first.pk}"] if e["model"] == "consumers.Consumer"] == [
        person.subject.phone
    ]
    assert "client_account" in data["categories"] and "cookie_consent" in data["categories"]


@pytest.mark.obligation("P35")
def test_the_recording_is_in_the_package_decrypted(person):
    archive, _ = open_package(person.subject)

    recordings = [name for name in archive.namelist() if name.startswith("recordings/")]

    assert recordings == [f"recordings/organisation-{person.first.pk}/recording-{person.recording.pk}.wav"]
    assert archive.read(recordings[0]) == AUDIO


@pytest.mark.obligation("P39")
def test_csv_cells_cannot_run_as_formulas(person):
    person.consumers[0].name = '=HYPERLINK("http://evil.example")'
    person.consumers[0].save()

    archive, _ = open_package(person.subject)

    names = [row["name"] for row in read_csv(archive, "consumer.csv") if row["model"] == "consumers.Consumer"]
    assert '\'=HYPERLINK("http://evil.example")' in names


@pytest.mark.obligation("P54")
def test_the_summary_says_what_why_how_long_who_and_where_to_complain(person):
    archive, _ = open_package(person.subject)

    text = archive.read("summary.txt").decode()

    assert "Consumer contact data: 4 records, held by Acme Energy Ltd, Bright Broadband plc." in text  # records and list entries
    assert "Why: to make the calls the business that gave us your details asked for" in text
    assert "How long: Call recordings are kept at most 6 months, and go with the call's data if that is sooner." in text
    assert not re.search(r"\bP\d\d\b", text)  # no internal references such as P30
    assert "Acme Energy Ltd gave us your details for its calls and decides how they are used" in text
    assert "Amazon Web Services" in text  # the published sub-processors
    assert "compliance@nextsupport.co.uk" in text
    assert "https://ico.org.uk/make-a-complaint/" in text
    assert "P30" not in text and "P31" not in text  # no internal references


@pytest.mark.obligation("P54")
def test_someone_we_hold_nothing_on_gets_a_package_that_says_so(db):
    archive, found = open_package(privacy.Subject(email="nobody@example.org"))

    assert found.is_empty()
    assert sorted(archive.namelist()) == ["data.json", "summary.txt"]
    text = archive.read("summary.txt").decode()
    assert "We hold no personal data about you." in text and "ico.org.uk" in text


@pytest.mark.obligation("P35")
def test_an_earlier_requests_copy_is_never_packed_into_the_next_copy(compliance_officer):
    from tests.compliance.test_requests_lifecycle import staff_request

    first = staff_request(compliance_officer, email="nobody@home.example", phone=None)  # completes, with its copy
    assert first.package_name

    archive, found = open_package(privacy.Subject(email="nobody@home.example"))

    assert any(item.obj == first for item in found.items)  # the earlier request is in the copy, as data
    assert not [name for name in archive.namelist() if name.startswith("recordings/") or name.endswith(".zip")]
    assert "recordings/" not in archive.read("summary.txt").decode()
