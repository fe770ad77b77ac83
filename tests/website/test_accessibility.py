"""axe-core (shipped in the axe-playwright-python wheel, injected from disk) on every
public page, the banner and the preferences centre: no serious or critical violations."""

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from nextsupport import services as policy_services
from nextsupport.models import PolicyDocument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = [
    "/",
    "/privacy-policy/",
    "/cookie-policy/",
    "/terms/",
    "/accessibility/",
    "/sub-processors/",
    "/contact/",
    "/contact/thanks/",
    "/your-rights/",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def serious_violations(page, context: str | None = None) -> list[str]:
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "([context, tags]) => axe.run(context || document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [context, WCAG_TAGS],
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.obligation("P51")
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_with_the_cookie_banner_has_no_serious_accessibility_violations(visit, path):
    page = visit().open(path)

    assert page.locator("#cookie-banner").is_visible()
    assert serious_violations(page) == []


@pytest.mark.obligation("P51", "P41")
def test_the_preferences_centre_has_no_serious_accessibility_violations(visit):
    page = visit().open("/")
    page.locator("#cookie-banner").get_by_role("button", name="Manage preferences").click()
    page.locator("#cookie-preferences details").first.locator("summary").click()

    assert page.get_by_role("dialog", name="Cookie settings").is_visible()
    assert serious_violations(page, "#cookie-preferences") == []
    assert serious_violations(page) == []


@pytest.mark.obligation("P51", "P09")
def test_the_contact_form_with_errors_has_no_serious_accessibility_violations(visit):
    page = visit().open("/contact/")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_role("alert").get_by_text("Your message was not sent").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert serious_violations(page) == []


@pytest.mark.obligation("P51", "P53")
def test_a_policy_notice_and_an_archived_version_have_no_serious_accessibility_violations(visit):
    current = PolicyDocument.objects.get(kind=PolicyDocument.Kind.PRIVACY)
    draft = policy_services.policy_document_draft_from(document=current)
    draft.significant_change, draft.summary_of_changes = True, "We now name our sub-processors on a page of their own."
    draft.save()
    policy_services.policy_document_publish(document=draft)

    page = visit().open("/privacy-policy/version-1/")

    notice = page.get_by_role("region", name="Policy updates")
    assert notice.is_visible()
    assert page.evaluate("document.querySelector('.policy-notices').previousElementSibling.classList.contains('site-header')")
    assert serious_violations(page) == []
