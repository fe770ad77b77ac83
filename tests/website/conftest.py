"""Fixtures for the public website: its seeded content, a real browser, and a
local stand-in for Google's analytics host so no test ever leaves the machine."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from cookies import buffer
from cookies.models import ConsentRecord
from cookies.selectors import published_cookie_policy_versions
from nextsupport.headers import content_security_policy

# Playwright's sync API runs an event loop in this thread; Django must still let
# the test (and live_server) touch the database from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MEASUREMENT_ID = "G-TEST123"


def _empty_consent_buffer():
    buffer._spool.discard()
    client = buffer._connection()
    if client is not None:
        client.delete(*buffer._keys())


@pytest.fixture(autouse=True)
def _synchronous_consent_buffer(settings):
    """Records go to Redis within the request, so no background thread ever writes
    outside a test's transaction (test_consent_buffer.py covers the thread)."""
    settings.COOKIE_CONSENT_WRITE_BEHIND = False


@pytest.fixture(autouse=True)
def _fresh_caches():
    """The banner's register and policy versions are cached, and consent records may wait in
    the Redis buffer; each test starts from its own database and an empty buffer."""
    cache.clear()
    published_cookie_policy_versions.forget()
    _empty_consent_buffer()
    yield
    cache.clear()
    published_cookie_policy_versions.forget()
    _empty_consent_buffer()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (its last answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def consent_log():
    """The consent records, including any still on their way through the buffer."""
    buffer.flush()
    return ConsentRecord.objects.order_by("created_at")


class _StandIn(BaseHTTPRequestHandler):
    """Serves /gtag/js like Google's tag would: it reads Consent Mode from the
    dataLayer and sets first-party _ga cookies only while analytics is granted."""

    SCRIPT = b"""
(function () {
  window.__standInLoads = (window.__standInLoads || 0) + 1;
  var granted = false;
  (window.dataLayer || []).forEach(function (args) {
    if (args[0] === "consent" && args[2] && args[2].analytics_storage) {
      granted = args[2].analytics_storage === "granted";
    }
  });
  if (granted && !window["ga-disable-G-TEST123"]) {
    document.cookie = "_ga=GA1.1.1234567890.1700000000; path=/; max-age=31536000";
    document.cookie = "_ga_TEST123=GS1.1.1700000000.1.0.1700000000.0.0.0; path=/; max-age=31536000";
  }
})();
"""

    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(self.SCRIPT)))
        self.end_headers()
        self.wfile.write(self.SCRIPT)

    def log_message(self, *args):
        pass


@pytest.fixture
def analytics_host(settings):
    """A local analytics host on a free port; the site's GA4 settings point at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    settings.GOOGLE_ANALYTICS_MEASUREMENT_ID = MEASUREMENT_ID
    settings.GOOGLE_ANALYTICS_SCRIPT_URL = f"{origin}/gtag/js"
    # As the settings build it for a configured tag: the tag's origin may serve scripts.
    settings.SECURE_CSP = content_security_policy(analytics_script_url=settings.GOOGLE_ANALYTICS_SCRIPT_URL)
    server.origin = origin
    yield server
    server.shutdown()
    server.server_close()


# One module's browser at a time: Playwright's sync API refuses to start while another
# instance's event loop is alive, so a session-wide browser here broke the other apps'
# browser tests whenever they ran after a website module.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser context and page on the live server that records every request it makes."""

    def __init__(self, browser, base_url: str, **context_options):
        self.base_url = base_url
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

    def open(self, path: str = "/"):
        self.page.goto(self.base_url + path, wait_until="networkidle")
        return self.page

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies()}

    def requests_to(self, origin: str) -> list[str]:
        return [url for url in self.requests if url.startswith(origin)]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, live_server, site_content):
    """Open a fresh visitor (no cookies); pass context options such as extra_http_headers."""
    opened = []

    def open_visit(**context_options) -> Visit:
        opened.append(Visit(browser, live_server.url, **context_options))
        return opened[-1]

    yield open_visit
    for item in opened:
        item.close()


CONSENT_ENDPOINT = "/cookies/consent"


@pytest.fixture
def choice():
    """What consent.js posts when a first-time visitor allows analytics."""
    from cookies.selectors import banner_version

    return {
        "consent_id": None,
        "categories": ["analytics"],
        "policy_version": 1,
        "banner_version": banner_version(),
        "gpc": False,
    }


def post(client, payload, **headers):
    headers.setdefault("HTTP_SEC_FETCH_SITE", "same-origin")
    return client.post(CONSENT_ENDPOINT, data=json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def redis_buffer(settings):
    """The consent buffer on this run's Redis (CI provides one), emptied before and after."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL (CI does)")
    settings.COOKIE_CONSENT_BUFFER_URL = url
    client = buffer._client(url)
    client.delete(*buffer._keys())
    yield client
    buffer._spool.discard()
    client.delete(*buffer._keys())
