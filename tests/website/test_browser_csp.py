"""The Content-Security-Policy enforced in a real browser (Debian's chromium): the main
public pages, the cookie banner and preferences centre (with the analytics tag it loads
after consent), the portal and the API docs all work without a single violation."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import login
from tests.factories import CallFactory, MembershipFactory, OrganisationFactory
from tests.website.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports to itself, and every "Refused to ..." the browser logs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""

PUBLIC_PAGES = ["/", "/privacy-policy/", "/cookie-policy/", "/contact/", "/stop-calls/", "/your-rights/", "/terms/"]


def watched(visit):
    """A visitor whose pages report every policy violation, from the page and from the console."""
    visitor = visit()
    visitor.context.add_init_script(WATCH)
    visitor.console = []
    visitor.page.on(
        "console", lambda message: visitor.console.append(message.text) if "Content Security Policy" in message.text else None
    )
    return visitor


def violations(visitor) -> list[str]:
    return visitor.page.evaluate("window.__violations") + visitor.console


def test_public_pages_and_the_cookie_banner_load_without_a_violation(visit, analytics_host):
    # Given a first-time visitor, with the analytics tag configured
    visitor = watched(visit)
    seen = []

    # When they read the public pages, submit a form with errors, open the preferences centre and accept all
    for path in PUBLIC_PAGES:
        response = visitor.page.goto(visitor.base_url + path, wait_until="networkidle")
        assert "script-src" in response.headers["content-security-policy"]
        seen += [f"{path}: {v}" for v in violations(visitor)]
    page = visitor.page
    page.goto(visitor.base_url + "/stop-calls/")
    page.locator("main form button[type=submit]").click()  # no number: the error summary takes focus
    page.wait_for_load_state("networkidle")
    page.goto(visitor.base_url + "/")
    page.locator("#cookie-banner").get_by_role("button", name="Manage preferences").click()
    page.keyboard.press("Escape")
    with page.expect_response(lambda r: "/cookies/consent" in r.url) as answer:
        page.locator("#cookie-banner").get_by_role("button", name="Accept all", exact=True).click()
    assert answer.value.status == 201
    # Then the tag the choice allowed has loaded, and nothing was refused on the way
    assert wait_for(lambda: analytics_host.requests)
    page.wait_for_load_state("networkidle")
    seen += violations(visitor)
    assert seen == []
    # And the watch does see a violation: an inline script, as an injection would add, is refused and reported
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); }"
    )
    assert wait_for(lambda: len(violations(visitor)) == 2)  # the event and the console line
    assert page.evaluate("window.ran === undefined")


def test_the_portal_and_the_api_docs_load_without_a_violation(visit, live_server):
    # Given a signed-in client owner (second factor passed) in the browser
    organisation = OrganisationFactory(legal_name="Acme Energy Ltd")
    owner = MembershipFactory(organisation=organisation, role="owner").user
    session = login(Client(), owner).cookies["sessionid"].value
    visitor = watched(visit)
    visitor.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    org = organisation.pk
    call = CallFactory(organisation=organisation)
    campaign = call.campaign
    pages = [
        reverse("accounts:dashboard", args=[org]),
        reverse("campaigns:list", args=[org]),
        reverse("campaigns:new", args=[org]),
        reverse("campaigns:detail", args=[org, campaign.pk]),  # live figures, charts, the rate meter
        reverse("campaigns:script", args=[org, campaign.pk]),
        reverse("campaigns:results", args=[org, campaign.pk]),
        reverse("campaigns:call", args=[org, call.pk]),
        reverse("campaigns:caller-ids", args=[org]),
        reverse("consumers:lists", args=[org]),
        reverse("consumers:list-new", args=[org]),
        reverse("consumers:search", args=[org]),
        reverse("consumers:suppressions", args=[org]),
        reverse("accounts:team", args=[org]),
        reverse("accounts:security"),
        reverse("accounts:authenticator-add"),  # the QR code
        reverse("api-docs"),
    ]
    seen = []

    # When they open each page
    for path in pages:
        response = visitor.page.goto(visitor.base_url + path, wait_until="networkidle")
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy.split("style-src")[0], path  # no inline scripts, anywhere
        seen += [f"{path}: {v}" for v in violations(visitor)]

    # Then the API docs ran (their own policy) and no page reported a violation
    assert visitor.page.locator(".swagger-ui").count() == 1
    assert seen == []
