"""Real-browser tests: Playwright (sync API) driving Debian's chromium against live_server."""

import os

import pytest
from django.db import connections

# Playwright's sync API runs an event loop in this thread; Django's ORM (in the
# same thread, for reading the test outbox and the database) must be allowed.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # The test's own queries ran while Playwright's greenlets were active, with a
        # database connection of their own: close it here, in the same context, or
        # the test database cannot be dropped at the end of the run.
        connections.close_all()
        page.wait_for_load_state("networkidle")
        context.close()
        browser.close()
