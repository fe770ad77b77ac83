"""API keys: shown once, stored hashed, one organisation each, revocable, expiring (P15, P25)."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from accounts import services
from accounts.access import OrganisationAPIView
from accounts.models import APIKey, Capability
from tests.accounts.helpers import actions, last_sequence
from tests.factories import APIKeyFactory


def _key_client(raw_key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


@pytest.mark.obligation("P15")
def test_an_owner_creates_a_key_that_is_shown_once_and_announced(
    owner_client, owner, teammate, organisation, django_capture_on_commit_callbacks
):
    since = last_sequence()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/app/o/{organisation.pk}/account/api-keys/", {"name": "CRM sync", "scope": "read_only"})
    raw = re.search(r'value="(nsk_[0-9a-f]{8}\.[\w-]+)"', response.content.decode()).group(1)

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    assert raw not in owner_client.get(f"/app/o/{organisation.pk}/account/api-keys/").content.decode()
    assert "api_key.created" in actions(since)
    notices = [m for m in mail.outbox if "API key" in m.subject]
    assert [m.to for m in notices] == [[owner.email]]  # owners and admins; the viewer is not told
    assert raw not in notices[0].body


@pytest.mark.obligation("P03")
def test_keys_are_not_stored_in_plaintext(organisation, owner):
    key, raw = services.api_key_create(
        organisation=organisation, name="CRM sync", scope="read_only", expires_at=None, created_by=owner, request=None
    )
    secret = raw.split(".", 1)[1]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey WHERE id = %s", [key.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in row and raw not in row
    assert key.hashed_key != raw and len(key.hashed_key) == 64


@pytest.mark.obligation("P25")
def test_viewers_and_managers_cannot_manage_keys(client, organisation, teammate):
    from tests.conftest import login

    login(client, teammate)

    assert client.get(f"/app/o/{organisation.pk}/account/api-keys/").status_code == 403
    assert client.post(f"/app/o/{organisation.pk}/account/api-keys/", {"name": "x", "scope": "read_only"}).status_code == 403
    assert not APIKey.objects.exists()


def test_a_key_reads_its_own_organisation_and_notes_when_it_was_used(organisation):
    key = APIKeyFactory(organisation=organisation)

    response = _key_client(key.raw_key).get(f"/api/v1/orgs/{organisation.pk}/members/")

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.obligation("P25")
def test_a_key_cannot_reach_another_organisation(organisation, other_organisation):
    key = APIKeyFactory(organisation=other_organisation)

    for url in (f"/api/v1/orgs/{organisation.pk}/", f"/api/v1/orgs/{organisation.pk}/members/"):
        assert _key_client(key.raw_key).get(url).status_code == 404


@pytest.mark.obligation("P15")
def test_a_revoked_key_is_refused_and_its_use_logged(owner_client, organisation):
    key = APIKeyFactory(organisation=organisation)
    owner_client.post(f"/app/o/{organisation.pk}/account/api-keys/{key.pk}/revoke/")
    since = last_sequence()

    response = _key_client(key.raw_key).get(f"/api/v1/orgs/{organisation.pk}/")

    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has been revoked."}
    assert response["WWW-Authenticate"].startswith("Api-Key")
    assert actions(since) == ["api_key.refused"]


@pytest.mark.parametrize(
    ("expires_on", "error"),
    [
        ("not-a-date", "Enter a valid date."),
        ("2000-01-01", "Choose today or a later day."),
        ("9999-12-31", "Choose an earlier day"),
    ],
)
def test_a_bad_expiry_date_is_explained_next_to_its_field_and_creates_no_key(owner_client, organisation, expires_on, error):
    response = owner_client.post(
        f"/app/o/{organisation.pk}/account/api-keys/", {"name": "CRM sync", "scope": "read_only", "expires_on": expires_on}
    )

    assert response.status_code == 200
    assert error in response.context["form"].errors["expires_on"][0]
    assert not APIKey.objects.exists()


def test_an_expired_key_is_refused(organisation):
    key = APIKeyFactory(organisation=organisation, expires_at=timezone.now() + datetime.timedelta(days=1))

    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        response = _key_client(key.raw_key).get(f"/api/v1/orgs/{organisation.pk}/")

    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has expired."}


def test_the_dashboard_counts_only_the_keys_that_still_work(owner_client, organisation):
    APIKeyFactory(organisation=organisation)
    APIKeyFactory(organisation=organisation, expires_at=timezone.now() + datetime.timedelta(days=1))
    APIKeyFactory(organisation=organisation, expires_at=timezone.now() - datetime.timedelta(days=1))
    APIKeyFactory(organisation=organisation, revoked_at=timezone.now())

    response = owner_client.get(f"/app/o/{organisation.pk}/")

    assert response.context["active_keys"] == 2


def test_a_wrong_secret_with_a_real_prefix_is_refused(organisation):
    key = APIKeyFactory(organisation=organisation)
    forged = key.prefix + ".not-the-secret"

    assert _key_client(forged).get(f"/api/v1/orgs/{organisation.pk}/").status_code == 401


def test_keys_die_with_a_closed_organisation(organisation, owner):
    key = APIKeyFactory(organisation=organisation)

    services.organisation_close(organisation=organisation, by=owner, reason="", request=None)

    assert _key_client(key.raw_key).get(f"/api/v1/orgs/{organisation.pk}/").status_code == 401


class _LaunchView(OrganisationAPIView):
    capability = Capability.LAUNCH_CAMPAIGNS

    def post(self, request, org_id):
        from rest_framework.response import Response

        return Response({"launched": True, "by_key": request.api_key is not None})


class _RecordingsView(OrganisationAPIView):
    capability = Capability.HEAR_RECORDINGS

    def get(self, request, org_id):
        from rest_framework.response import Response

        return Response({})


@pytest.mark.obligation("P25")
def test_a_key_can_do_only_what_its_scope_allows(organisation):
    read_only = APIKeyFactory(organisation=organisation, scope=APIKey.Scope.READ_ONLY)
    read_write = APIKeyFactory(organisation=organisation, scope=APIKey.Scope.READ_WRITE)
    factory = APIRequestFactory()

    def call(view, method, key):
        request = getattr(factory, method)("/", HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
        return view.as_view()(request, org_id=organisation.pk)

    assert call(_LaunchView, "post", read_only).status_code == 403
    assert call(_LaunchView, "post", read_write).data == {"launched": True, "by_key": True}
    assert call(_RecordingsView, "get", read_write).status_code == 403  # no key hears recordings


def test_the_schema_and_docs_describe_key_authentication_without_a_cdn(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/").content.decode()

    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"
    assert "/api/v1/orgs/{org_id}/members/" in schema.json()["paths"]
    # Every script, stylesheet and image the docs page loads comes from our own static files:
    # a random CSRF token may well contain "cdn", so look at the addresses, not the text.
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs)
    assert any(a.startswith("/static/drf_spectacular_sidecar/") for a in assets)
    assert [a for a in assets if re.match(r"(?:[a-z]+:)?//", a, re.I)] == []
    assert "cdn.jsdelivr" not in docs and "unpkg.com" not in docs


def test_the_schema_generates_without_warnings(tmp_path, db):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "MemberListOutput" in schema and "OrganisationDetailOutput" in schema


def test_revoking_a_key_asks_first_and_a_new_key_is_shown_once_with_a_copy_button(owner_client, organisation):
    created = owner_client.post(f"/app/o/{organisation.pk}/account/api-keys/", {"name": "CRM", "scope": "read_only"})
    key = APIKey.objects.get()
    assert 'data-copy="raw-key"' in created.content.decode()
    assert 'data-copy="raw-key"' not in owner_client.get(f"/app/o/{organisation.pk}/account/api-keys/").content.decode()

    asked = owner_client.get(f"/app/o/{organisation.pk}/account/api-keys/{key.pk}/revoke/")

    assert asked.status_code == 200 and "stops working at once" in asked.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None
