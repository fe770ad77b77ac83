"""Real-browser tests: Playwright (sync API) driving Debian's chromium against live_server."""

import os

import pytest
from django.db import connections
from django.test import Client

from tests.conftest import login

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


@pytest.fixture
def served_at(live_server, settings):
    """SITE_URL is the live server's address, as `PORT=... make run` makes it: a port that is not 8000,
    so an e-mailed link that works here follows the port the platform runs on."""
    settings.SITE_URL = live_server.url
    assert not live_server.url.endswith(":8000")
    return live_server.url


def signed_in(page, live_server, user):
    """Give the browser the session of `user`, signed in the way every test signs in."""
    client = login(Client(), user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return page
