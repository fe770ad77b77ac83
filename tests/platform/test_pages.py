import pytest


@pytest.mark.parametrize("url", ["/", "/privacy-policy/"])
def test_public_pages_share_the_accessible_layout(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en-GB">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert 'aria-label="Main"' in html
    assert 'href="/privacy-policy/"' in html


@pytest.mark.obligation("P54")
def test_the_privacy_policy_is_published_with_the_compliance_contact_and_ico(client, db):
    html = client.get("/privacy-policy/").content.decode()

    assert "<h2>Your Data Protection Rights</h2>" in html
    assert "<li>Right to Erasure: Request deletion of your data, subject to legal retention requirements.</li>" in html
    assert "compliance@nextsupport.co.uk" in html
    assert "ico.org.uk" in html


def test_an_unknown_address_gets_the_sites_own_not_found_page(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert '<a class="skip-link" href="#main">' in html  # the accessible layout, with the footer links
    assert 'href="/contact/"' in html


def test_a_not_found_page_never_shows_the_internal_reason(client, db):
    # The view raises Http404 with a message naming the document and version; it stays in the logs.
    html = client.get("/privacy-policy/version-999/").content.decode()

    assert "<h1>Page not found</h1>" in html
    assert "There is no published version" not in html


def test_a_server_error_page_renders_without_a_request_or_database(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
