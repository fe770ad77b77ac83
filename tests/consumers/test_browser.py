"""In a real browser: uploading and mapping a list, the progress bar following the import, the stop-calls form."""

import os

import pytest
from django.test import Client
from django.utils import timezone

from consumers import services
from consumers.models import Consumer, ImportJob
from tests.conftest import login
from tests.consumers.conftest import csv_bytes, make_list, upload
from tests.website.conftest import wait_for

# Playwright's sync API runs an event loop in this thread; Django's ORM is used from it too.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# site_content: transactional tests empty every table, the pages need what the migrations seed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("site_content")]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def signed_in(page, live_server, user):
    """Give the browser the session of `user`, signed in the way every test signs in."""
    client = login(Client(), user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return page


@pytest.mark.obligation("P10", "P19")
def test_a_client_uploads_maps_and_imports_a_list(page, live_server, organisation, owner, tmp_path):
    path = tmp_path / "crm-export.csv"
    path.write_bytes(
        csv_bytes(
            ["Full name", "Mobile", "Email", "Medical notes"],
            ["Ada Lovelace", "07911 123456", "ada@example.org", "asthma"],
            ["Bob", "020 7946 0001", "", ""],
            ["Broken", "12345", "", ""],
        )
    )
    signed_in(page, live_server, owner)

    page.goto(f"{live_server.url}/app/o/{organisation.pk}/lists/new/")
    page.get_by_label("List name").fill("Boiler customers")
    page.get_by_label("Customer service calls").check()
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()

    page.get_by_role("heading", name="Choose what to import").wait_for()
    assert page.get_by_role("cell", name="Ada Lovelace").first.is_visible()  # the preview
    assert page.get_by_label("Import column “Mobile” as").input_value() == "phone"  # the suggested mapping
    assert page.get_by_text("Looks like special-category data").is_visible()
    page.get_by_label("Contract").check()
    page.get_by_label("Why you may have them called, in your own words").fill(
        "They are our customers and asked for servicing calls."
    )
    page.get_by_label("I confirm that this is true").check()
    page.get_by_role("button", name="Start the import").click()

    # Celery runs the task in-process under the test settings, so the import is done by the time the page shows.
    page.get_by_text("Import finished: 2 people imported.").wait_for()
    assert page.locator("#progress-bar").get_attribute("value") == "100"
    assert page.get_by_role("cell", name="Not a valid number for its country.").is_visible()
    assert page.get_by_text("Medical notes: looks like special-category data, which we never hold").is_visible()
    assert Consumer.objects.count() == 2


def test_the_progress_bar_follows_a_running_import(page, live_server, organisation, owner):
    contact_list = make_list(organisation, owner)
    job = services.import_job_create(
        contact_list=contact_list, upload=upload(csv_bytes(["Phone"], ["07911 123456"])), uploaded_by=owner
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.IMPORTING,
        mapping={"0": "phone"},
        total_rows=1000,
        rows_read=400,
        created=380,
        rejected=20,
        size_bytes=1000,
        bytes_done=400,
        started_at=timezone.now(),
    )
    signed_in(page, live_server, owner)
    page.goto(f"{live_server.url}/app/o/{organisation.pk}/imports/{job.pk}/")
    assert page.locator("#progress-bar").get_attribute("value") == "40"
    assert page.locator("[data-figure=accepted]").inner_text() == "380"

    # The worker moves on: the page picks it up without a reload...
    ImportJob.objects.filter(pk=job.pk).update(rows_read=800, created=760, rejected=40, bytes_done=800)
    # Polled from here: wait_for_function evaluates its string in the page, which the CSP refuses.
    assert wait_for(lambda: page.evaluate("document.getElementById('progress-bar').value") == 80, timeout=15)
    assert page.locator("[data-figure=rows_read]").inner_text() == "800"
    assert "80% done" in page.locator("#progress-status").inner_text()

    # ...and shows the result once it ends.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.COMPLETED, rows_read=1000, created=950, rejected=50, finished_at=timezone.now()
    )
    page.get_by_text("Import finished: 950 people imported.").wait_for()


@pytest.mark.obligation("P40", "P51")
def test_stopping_calls_with_the_keyboard_alone(page, live_server):
    page.goto(f"{live_server.url}/stop-calls/")
    # First the cookie banner (placed before the skip link, as GOV.UK places it): refuse with the keyboard.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#cookie-banner') !== null")
    for _ in range(10):
        if page.evaluate("document.activeElement.textContent.trim()") == "Reject all":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#cookie-banner").wait_for(state="hidden")
    # Then the skip link is the first stop of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"

    page.get_by_label("Your phone number").focus()
    page.keyboard.press("Enter")  # submit with nothing typed
    page.locator(".error-summary").wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Your phone number").get_attribute("aria-invalid") == "true"

    page.get_by_label("Your phone number").fill("07911 123456")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Done: we will not call your number").wait_for()
    assert "ending 456" in page.locator("main").inner_text()
