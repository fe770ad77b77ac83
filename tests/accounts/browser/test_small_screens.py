"""No page scrolls sideways on a phone (320 to 390 px wide), WCAG 2.2's reflow criterion (P51)."""

import pytest

from accounts.models import Membership, Role
from consumers.models import Consumer
from tests.accounts.browser.conftest import signed_in
from tests.consumers.conftest import csv_bytes, make_list, run_import
from tests.factories import APIKeyFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("site_content")]

WIDTHS = (320, 390)
# The outermost elements that reach past the right edge: what to fix when a page is too wide.
_OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && e.parentElement.getBoundingClientRect().right <= innerWidth + 1)
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture
def busy_organisation(organisation, owner):
    """An organisation with the things that make pages wide: long names, addresses, tables, keys."""
    for n in range(4):
        MembershipFactory(
            organisation=organisation,
            role=Role.CAMPAIGN_MANAGER,
            user__email=f"a.very.long.address.{n}@acme-energy-services.example",
        )
    APIKeyFactory(organisation=organisation, name="Nightly CRM synchronisation from Salesforce")
    contact_list = make_list(organisation, owner, name="Boiler service customers, spring 2026 renewals")
    rows = [["Ada Lovelace-Byron", "07911 123456", "ada.lovelace-byron@analytical-engines.example"], ["X", "12345", "bad"]]
    job = run_import(contact_list, owner, csv_bytes(["Full name", "Mobile", "Email"], *rows))
    return organisation, contact_list, job


def test_no_page_scrolls_sideways_on_a_phone(page, live_server, busy_organisation, owner):
    organisation, contact_list, job = busy_organisation
    org = f"/app/o/{organisation.pk}"
    consumer = Consumer.objects.first()
    paths = [
        f"{org}/",
        f"{org}/lists/",
        f"{org}/lists/new/",
        f"{org}/lists/{contact_list.pk}/",
        f"{org}/imports/{job.pk}/",
        f"{org}/consumers/{consumer.pk}/",
        f"{org}/do-not-call/",
        f"{org}/account/team/",
        f"{org}/account/team/{Membership.objects.exclude(user=owner).first().pk}/remove/",
        f"{org}/account/api-keys/",
        f"{org}/account/",
        "/app/security/",
        "/app/no-such-page/",
        "/",
    ]
    signed_in(page, live_server, owner)

    wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide.append(f"{path} is {scroll} px wide at {width} px: {page.evaluate(_OVERFLOWING)}")

    assert wide == [], "\n".join(wide)
