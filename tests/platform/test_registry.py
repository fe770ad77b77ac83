import datetime

import pytest
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone

from accounts.models import User
from nextsupport import privacy
from nextsupport.fields import BlindIndexField, EncryptedPhoneField
from tests.testapp.models import Person


def test_every_model_holding_personal_data_is_registered():
    assert privacy.check_registry() == []


# Discovery, erasure and retention see only registered models: a forgotten one would escape them all.
@pytest.mark.obligation("P35", "P37")
def test_a_model_with_an_encrypted_field_but_no_registration_is_caught():
    with isolate_apps("tests.testapp") as isolated:

        class Forgotten(models.Model):
            phone = EncryptedPhoneField(null=True)
            phone_index = BlindIndexField(source="phone")

            class Meta:
                app_label = "testapp"

        problems = privacy.check_registry(isolated)

    assert problems == ["testapp.Forgotten holds personal data (phone) but is not in the personal-data registry."]


@pytest.mark.obligation("P35", "P37")
def test_a_number_kept_only_as_its_blind_index_is_personal_data_too():
    with isolate_apps("tests.testapp") as isolated:

        class ForgottenOptOut(models.Model):
            phone_index = BlindIndexField(purpose="phone")

            class Meta:
                app_label = "testapp"

        @privacy.register(
            category=privacy.Category.SUPPRESSION,
            controller=privacy.Controller.NEXTSUPPORT,
            fields=(),
            subject={},
            retention=privacy.Retention(days=None, after=None, action=privacy.Action.RETAIN, basis="test"),
            erasure=privacy.Action.RETAIN,
        )
        class UnsearchedOptOut(models.Model):
            phone_index = BlindIndexField(purpose="phone")

            class Meta:
                app_label = "testapp"

        try:
            problems = privacy.check_registry(isolated)
        finally:
            privacy._registry.pop(UnsearchedOptOut)

    assert problems == [
        "testapp.ForgottenOptOut holds personal data (phone_index) but is not in the personal-data registry.",
        "testapp.UnsearchedOptOut: blind indexes phone_index are not in its subject, "
        "so data-subject requests would not find those rows.",
    ]


def test_a_registration_must_declare_every_encrypted_field_and_name_real_paths():
    with isolate_apps("tests.testapp") as isolated:

        @privacy.register(
            category=privacy.Category.CONSUMER,
            controller=privacy.Controller.CLIENT,
            fields=("name",),
            subject={"phone": "phone_idx"},
            retention=privacy.Retention(days=1, after="created", action=privacy.Action.DELETE, basis="test"),
            erasure=privacy.Action.DELETE,
        )
        class HalfDeclared(models.Model):
            phone = EncryptedPhoneField(null=True)

            class Meta:
                app_label = "testapp"

        try:
            problems = privacy.check_registry(isolated)
        finally:
            privacy._registry.pop(HalfDeclared)

    assert "testapp.HalfDeclared: encrypted fields phone are not declared in its registration." in problems
    assert "testapp.HalfDeclared: registration names 'name', which is not a field path of the model." in problems
    assert "testapp.HalfDeclared: registration names 'phone_idx', which is not a field path of the model." in problems
    assert "testapp.HalfDeclared: retention is counted from 'created', which is not a field path." in problems


def test_a_registration_may_only_match_identifiers_a_request_can_carry():
    with isolate_apps("tests.testapp") as isolated:

        @privacy.register(
            category=privacy.Category.CONSUMER,
            controller=privacy.Controller.CLIENT,
            fields=(),
            subject={"postcode": "id"},
            retention=privacy.Retention(days=None, after=None, action=privacy.Action.DELETE, basis="test"),
            erasure=privacy.Action.DELETE,
        )
        class ByPostcode(models.Model):
            class Meta:
                app_label = "testapp"

        try:
            problems = privacy.check_registry(isolated)
        finally:
            privacy._registry.pop(ByPostcode)

    assert problems == [
        "testapp.ByPostcode: subject names postcode; the identifiers a request can carry are phone, email, user, cookie_consent."
    ]


def test_manage_check_reports_registry_problems_as_errors(monkeypatch):
    from nextsupport import checks

    monkeypatch.setattr(
        privacy, "check_registry", lambda: ["testapp.X holds personal data (phone) but is not in the personal-data registry."]
    )

    errors = checks.personal_data_registry(None)

    assert [(e.id, e.level) for e in errors] == [("nextsupport.E001", 40)]


@pytest.mark.obligation("P35")
def test_a_person_is_found_by_any_identifier_in_any_spelling(db):
    ada = Person.objects.create(name="Ada", phone="07911 123456", email="ada@example.org")
    Person.objects.create(name="Bob", phone="07911 123457", email="bob@example.org")
    entry = privacy.registration_for(Person)

    assert list(entry.rows_for(privacy.Subject(phone="+44 7911 123456"))) == [ada]
    assert list(entry.rows_for(privacy.Subject(email="ADA@example.org"))) == [ada]
    assert list(entry.rows_for(privacy.Subject())) == []


def test_plain_login_emails_are_matched_case_insensitively(db):
    user = User.objects.create_user("ada@client.example", "pw-1234567890")

    assert list(privacy.registration_for(User).rows_for(privacy.Subject(email="Ada@Client.Example"))) == [user]


@pytest.mark.obligation("P39")
def test_export_gives_the_declared_fields_as_plain_json_values(db):
    ada = Person.objects.create(name="Ada", phone="07911 123456", born_on=datetime.date(1990, 1, 2))

    exported = privacy.registration_for(Person).export(ada)

    assert exported == {
        "model": "testapp.Person",
        "id": ada.pk,
        "name": "Ada",
        "phone": "+447911123456",
        "email": None,
        "born_on": "1990-01-02",
        "notes": None,
    }


@pytest.mark.obligation("P37")
def test_erasure_follows_the_registered_rule(db):
    ada = Person.objects.create(name="Ada", phone="07911 123456")
    user = User.objects.create_user("ada@client.example", "pw-1234567890", full_name="Ada L")

    assert privacy.registration_for(Person).erase(Person.objects.filter(pk=ada.pk)) == 1
    assert privacy.registration_for(User).erase(User.objects.filter(pk=user.pk)) == 1

    assert not Person.objects.exists()
    user.refresh_from_db()
    assert (user.email, user.full_name) == (f"erased-user-{user.pk}@erased.invalid", None)


def test_expired_rows_are_those_past_their_retention(db):
    old = Person.objects.create(name="Old")
    Person.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    Person.objects.create(name="New")

    assert list(privacy.registration_for(Person).expired()) == [old]
