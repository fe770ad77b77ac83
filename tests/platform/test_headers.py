"""Headers every response carries: a strict Content-Security-Policy (Django's own middleware),
the API docs' policy of their own, a Permissions-Policy, and no-store where personal data may be."""

import re
from pathlib import Path

import pytest

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent.parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src|type=\"(text/plain|application/json)\"|csp_nonce_attr)\b)[^>]*>", re.I)


def directives(response, header="Content-Security-Policy") -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in response[header].split("; ")}


@pytest.mark.obligation("P24")
def test_every_page_gets_a_strict_policy_with_no_inline_code(client, site_content):
    policy = directives(client.get("/"))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no nonce was asked for, so none is offered
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]


def test_a_page_that_asks_for_the_nonce_gets_it_in_its_policy(client, compliance_officer):
    response = login(client, compliance_officer).get("/admin/")  # the admin's templates carry {% csp_nonce_attr %}

    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in directives(response)["script-src"]


def test_the_api_docs_have_a_policy_of_their_own(client):
    policy = directives(client.get("/api/docs/"))

    assert policy["script-src"] == ["'self'"]  # the split view: Swagger UI's settings are a script file, not inline
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert client.get("/api/docs/?script").status_code == 200


def test_browser_features_no_page_uses_are_switched_off(client, site_content):
    permissions = client.get("/")["Permissions-Policy"]

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


def test_no_template_has_inline_script_or_style():
    # Given every template of the project (Django's and allauth's own are nonce-ready or unused)
    offending = []
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        # When it is searched for inline code
        if INLINE_SCRIPT.search(text) or re.search(r"\sstyle=|<style|\son[a-z]+=", text):
            offending.append(str(template.relative_to(ROOT)))

    # Then none has any: the policy would refuse it
    assert offending == []


@pytest.mark.obligation("P24")
def test_public_pages_stay_cacheable_for_anonymous_visitors_but_form_posts_do_not(client, site_content):
    page = client.get("/privacy-policy/")
    posted = client.post("/stop-calls/", {"phone": "07911 123456"})

    assert "no-store" not in page.get("Cache-Control", "")
    assert "no-store" in posted["Cache-Control"]


@pytest.mark.obligation("P24")
def test_a_signed_in_browser_gets_no_store_even_on_public_pages(owner_client, site_content):
    assert "no-store" in owner_client.get("/")["Cache-Control"]


def test_static_files_keep_their_own_caching(owner_client):
    response = owner_client.get("/static/js/forms.js")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
