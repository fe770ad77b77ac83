"""Discovery finds everything held about a person, across every part of the system, through the registry alone (P35, P43)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import discovery
from nextsupport import privacy
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def labels(found: discovery.Discovery, **where) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in found.items:
        if all(getattr(item, key) == value for key, value in where.items()):
            counts[item.label] = counts.get(item.label, 0) + 1
    return counts


@pytest.mark.obligation("P35")
@pytest.mark.parametrize(
    ("label", "count"),
    [
        ("accounts.User", 1),
        ("accounts.Membership", 1),
        ("account.EmailAddress", 1),
        ("accounts.Organisation", 1),  # her organisation's billing contact
        ("consumers.Consumer", 2),  # one record in each client's data
        ("consumers.ListMembership", 2),
        ("consumers.ConsentRecord", 2),
        ("consumers.Suppression", 1),
        ("campaigns.CampaignContact", 2),
        ("campaigns.Call", 2),  # with their transcripts
        ("campaigns.CallResponse", 2),
        ("campaigns.Recording", 1),
        ("cookies.ConsentRecord", 1),
        ("compliance.Enquiry", 1),
    ],
)
def test_every_category_of_her_data_is_found(person, stranger, label, count):
    found = discovery.find(person.subject)

    assert labels(found).get(label, 0) == count


@pytest.mark.obligation("P35")
@pytest.mark.parametrize("identifier", ["phone", "email"])
def test_calls_transcripts_and_recordings_are_found_by_either_identifier(person, identifier):
    subject = privacy.Subject(**{identifier: getattr(person.subject, identifier)})

    found = labels(discovery.find(subject))

    assert (found["campaigns.Call"], found["campaigns.CallResponse"], found["campaigns.Recording"]) == (2, 2, 1)
    assert found["consumers.ConsentRecord"] == 2


@pytest.mark.obligation("P35")
def test_a_call_is_still_found_by_its_number_after_the_consumer_record_is_gone(person):
    person.consumers[0].delete()

    found = labels(discovery.find(privacy.Subject(phone=person.subject.phone)))

    assert found["campaigns.Call"] == 2


@pytest.mark.obligation("P35")
def test_blind_index_digests_find_what_the_numbers_find(person):
    by_value = discovery.find(privacy.Subject(phone=person.subject.phone))
    by_digest = discovery.find(privacy.Subject(phone_index=person.consumers[0].phone_index))

    assert labels(by_digest) == labels(by_value)


@pytest.mark.obligation("P43")
def test_each_item_names_its_controller(person):
    found = discovery.find(person.subject)

    grouped = found.by_controller()

    assert set(grouped) == {None, person.first.pk, person.second.pk}
    assert labels(found, organisation_id=person.first.pk)["campaigns.Recording"] == 1
    assert all(item.controller == privacy.Controller.NEXTSUPPORT for item in grouped[None])
    assert all(
        item.controller == privacy.Controller.CLIENT for key in (person.first.pk, person.second.pk) for item in grouped[key]
    )
    # Her user account and her organisation's billing contact are NextSupport's own data, not a client's.
    assert {"accounts.User", "accounts.Organisation", "compliance.Enquiry"} <= set(labels(found, organisation_id=None))


@pytest.mark.obligation("P43")
def test_discovery_can_be_limited_to_one_controller(person):
    found = discovery.find(person.subject, organisation_ids={person.second.pk})

    assert {item.organisation_id for item in found.items} == {person.second.pk}
    assert labels(found)["consumers.Suppression"] == 1
    assert "campaigns.Recording" not in labels(found)


def test_nextsupport_alone_is_a_controller_too(person):
    found = discovery.find(person.subject, organisation_ids={None})

    assert {item.organisation_id for item in found.items} == {None}
    assert labels(found)["accounts.User"] == 1


def test_someone_we_hold_nothing_on_gives_an_empty_discovery(person):
    found = discovery.find(privacy.Subject(phone="+447911200301", email="nobody@example.org"))

    assert found.is_empty()
    assert discovery.find(privacy.Subject()).is_empty()


def test_another_persons_data_is_never_in_her_discovery(person, stranger):
    found = discovery.find(person.subject)

    assert stranger not in [item.obj for item in found.items]


def test_queries_do_not_grow_with_the_rows_found(person):
    for organisation in (person.first, person.second):
        for _ in range(3):
            CallFactory(
                organisation=organisation,
                consumer=person.consumers[0 if organisation == person.first else 1],
                contact=None,
                phone_index=person.consumers[0].phone_index,
            )

    with CaptureQueriesContext(connection) as queries:
        found = discovery.find(person.subject)
        exported = [item.export() for item in found.items]

    # One query per registration, and one to learn which user account the address signs in with.
    assert len(queries) <= len(privacy.registrations()) + 1
    assert len(exported) == len(found.items)


@pytest.mark.obligation("P35")
def test_consent_evidence_is_found_after_its_consumer_record_is_gone(person):
    person.consumers[0].delete()

    found = labels(discovery.find(person.subject))

    assert found["consumers.ConsentRecord"] == 2


def _rows(items) -> list[tuple]:
    """Each item with every stored value of its row, so equal objects must hold equal data, not just equal ids."""
    return [
        (
            item.label,
            item.organisation_id,
            {f.attname: getattr(item.obj, f.attname) for f in item.obj._meta.concrete_fields},
        )
        for item in items
    ]


def _orm_items(subject, organisation_ids=None):
    subject = discovery.with_user_account(subject)
    return [
        item
        for registration in privacy.registrations()
        if discovery._in_scope(registration, organisation_ids)
        for item in discovery._items_of_orm(registration, subject, organisation_ids)
    ]


@pytest.mark.obligation("P35")
@pytest.mark.parametrize("identifiers", [("phone",), ("email",), ("phone", "email")])
def test_compiled_queries_find_exactly_what_the_orm_finds(person, stranger, identifiers):
    discovery._cache.clear()
    # The stranger's request compiles the queries of this shape; hers then reuses them with her own values.
    warm_up = privacy.Subject(**{kind: {"phone": "+447911200399", "email": "bob@home.example"}[kind] for kind in identifiers})
    assert _rows(discovery.find(warm_up).items) == _rows(_orm_items(warm_up))
    subject = privacy.Subject(**{kind: getattr(person.subject, kind) for kind in identifiers})

    found = discovery.find(subject)

    consumers = next(r for r in privacy.registrations() if r.label == "consumers.Consumer")
    assert [c.slots is not None for c in discovery._compiled_for(consumers)[1].values()] == [True]
    assert found.items and _rows(found.items) == _rows(_orm_items(subject))
    limited = discovery.find(subject, organisation_ids={person.first.pk, None})
    assert _rows(limited.items) == _rows(_orm_items(subject, {person.first.pk, None}))
