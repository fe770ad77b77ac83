"""What every integrator can count on: every /api/ answer is JSON (errors included),
and every operation in the OpenAPI schema is described, its request body too."""

import pytest
from django.test import Client

from tests.factories import APIKeyFactory

WRITE_METHODS = ("post", "put", "patch")


@pytest.fixture
def schema(client, db):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_operation_has_a_summary_and_a_tag(schema):
    undescribed = [f"{method.upper()} {path}" for path, method, op in _operations(schema) if not op.get("summary")]
    untagged = [f"{method.upper()} {path}" for path, method, op in _operations(schema) if not op.get("tags")]

    assert undescribed == [] and untagged == []


def test_every_write_documents_its_request_body_the_upload_as_multipart(schema):
    bodiless = [
        f"{method.upper()} {path}"
        for path, method, op in _operations(schema)
        if method in WRITE_METHODS and "requestBody" not in op
    ]
    upload = schema["paths"]["/api/v1/orgs/{org_id}/lists/{list_id}/imports/"]["post"]["requestBody"]["content"]

    assert bodiless == []
    form = upload["multipart/form-data"]["schema"]
    form = schema["components"]["schemas"][form["$ref"].rsplit("/", 1)[1]] if "$ref" in form else form
    assert form["properties"]["file"]["format"] == "binary" and form["required"] == ["file"]


@pytest.fixture
def key_client(organisation):
    key = APIKeyFactory(organisation=organisation)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}", raise_request_exception=False)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/no-such-thing/", 404),
        ("get", "/api/v1/orgs/{org}/lists/2000000000/", 404),
        ("put", "/api/v1/orgs/{org}/lists/", 405),
        ("get", "/api/v1/orgs/2000000000/lists/", 404),
    ],
)
def test_every_api_error_is_json(key_client, organisation, method, path, status):
    response = getattr(key_client, method)(path.format(org=organisation.pk))

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_an_unexpected_failure_in_the_api_is_answered_in_json(key_client, organisation, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("consumers.selectors.with_usability", broken)

    response = key_client.get(f"/api/v1/orgs/{organisation.pk}/lists/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "a bug" not in response.content.decode()


def test_a_missing_portal_page_is_still_the_sites_page(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_the_api_description_shows_no_internal_promise_codes(schema):
    import json
    import re

    assert re.findall(r"\(P\d\d\)|\bP\d\d:", json.dumps(schema)) == []
