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
