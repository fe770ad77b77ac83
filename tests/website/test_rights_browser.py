"""The data-subject request form in a real browser: axe finds nothing serious, with and without errors (P42)."""

import pytest

from tests.website.test_accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.obligation("P42", "P51")
def test_the_request_form_works_from_the_keyboard_and_its_errors_pass_axe(visit):
    page = visit().open("/your-rights/")
    assert serious_violations(page) == []

    # a person on a keyboard picks "erasure" and sends the form without an identifier
    page.get_by_label("Delete my data (erasure)").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Send my request").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    summary = page.get_by_role("alert")
    assert summary.get_by_text("Your request was not sent").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    summary.get_by_role("link", name="Your phone number: Give your phone number").click()
    assert page.evaluate("document.activeElement.id") == "id_phone"
    assert serious_violations(page) == []
