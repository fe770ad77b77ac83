"""The cookie banner in a real browser (Debian's chromium): nothing optional before
consent, consent proof for every choice, withdrawal as easy as consent, GPC honoured."""

import datetime

import pytest
from django.utils import timezone

from cookies.models import Category, RegisterEntry
from nextsupport import services as policy_services
from nextsupport.models import PolicyDocument
from tests.website.conftest import MEASUREMENT_ID, consent_log, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The accessible name of the focused element, near enough for these controls.
FOCUSED_NAME = """() => {
  const el = document.activeElement;
  return (el.getAttribute("aria-label") || (el.labels && el.labels.length && el.labels[0].innerText) || el.innerText || "").trim();
}"""


def necessary_cookie_names() -> set[str]:
    return set(RegisterEntry.objects.filter(category=Category.NECESSARY).values_list("name", flat=True))


def data_layer(page) -> list[list]:
    return page.evaluate("() => (window.dataLayer || []).map(args => Array.from(args))")


def consent_commands(page, kind: str) -> list[dict]:
    return [entry[2] for entry in data_layer(page) if entry[:2] == ["consent", kind]]


def saved_choice(page, act):
    """Run `act` (a click or key press that makes a choice) and wait until the page has applied
    the server's answer: consent.js announces every applied choice with a "nextsupport:consent" event."""
    page.evaluate(
        "() => { window.__choiceApplied = new Promise(done => document.addEventListener('nextsupport:consent', done, {once: true})); }"
    )
    with page.expect_response(lambda response: "/cookies/consent" in response.url) as answer:
        act()
    assert answer.value.status == 201, answer.value.text()
    page.evaluate("window.__choiceApplied.then(() => true)")
    page.wait_for_load_state("networkidle")


def dialog_closed(page, act):
    """Run `act` and wait for the preferences centre's close event (focus is restored in it)."""
    page.evaluate(
        "() => { window.__dialogClosed = new Promise(done => document.getElementById('cookie-preferences').addEventListener('close', done, {once: true})); }"
    )
    act()
    page.evaluate("window.__dialogClosed.then(() => true)")


def choose(page, button_name: str, *, within: str = "#cookie-banner"):
    saved_choice(page, lambda: page.locator(within).get_by_role("button", name=button_name, exact=True).click())


@pytest.mark.obligation("P08", "P18")
def test_first_visit_sets_only_strictly_necessary_cookies_and_contacts_no_analytics_host(visit, analytics_host):
    visitor = visit()

    for path in ("/", "/contact/", "/cookie-policy/", "/privacy-policy/"):
        page = visitor.open(path)
        assert page.locator("#cookie-banner").is_visible()

    assert visitor.cookie_names() <= necessary_cookie_names()
    assert "ns_consent" not in visitor.cookie_names()
    assert visitor.requests_to(analytics_host.origin) == []
    assert analytics_host.requests == []
    assert all(url.startswith(visitor.base_url) for url in visitor.requests)
    # Consent Mode is prepared, all denied, before anything could load.
    assert consent_commands(page, "default") == [
        {
            "ad_storage": "denied",
            "ad_user_data": "denied",
            "ad_personalization": "denied",
            "analytics_storage": "denied",
            "functionality_storage": "denied",
            "personalization_storage": "denied",
            "security_storage": "granted",
        }
    ]
    assert consent_log().count() == 0


@pytest.mark.obligation("P18", "P41")
def test_reject_all_keeps_every_optional_cookie_and_script_away(visit, analytics_host):
    visitor = visit()
    page = visitor.open("/")

    choose(page, "Reject all")

    assert page.locator("#cookie-banner").is_hidden()
    record = consent_log().get()
    assert (record.categories, record.gpc, record.policy_version) == ([], False, 1)
    page = visitor.open("/cookie-policy/")
    assert page.locator("#cookie-banner").is_hidden()
    assert visitor.cookie_names() <= necessary_cookie_names()
    assert analytics_host.requests == []
    assert consent_commands(page, "update") == []  # nothing to update: the default is denied


@pytest.mark.obligation("P08", "P18")
def test_allowing_analytics_loads_the_tag_and_updates_consent_mode(visit, analytics_host):
    visitor = visit()
    page = visitor.open("/")

    page.locator("#cookie-banner").get_by_role("button", name="Manage preferences").click()
    dialog = page.get_by_role("dialog", name="Cookie settings")
    switch = dialog.get_by_role("switch", name="Allow analytics cookies")
    assert not switch.is_checked()  # none pre-ticked
    switch.check()
    choose(page, "Save my choices", within="#cookie-preferences")

    assert wait_for(lambda: page.evaluate("window.__standInLoads") == 1)
    assert analytics_host.requests == [f"/gtag/js?id={MEASUREMENT_ID}"]
    assert consent_commands(page, "update") == [{"analytics_storage": "granted"}]
    config = [entry for entry in data_layer(page) if entry[0] == "config"]
    assert config == [
        [
            "config",
            MEASUREMENT_ID,
            {
                "anonymize_ip": True,
                "allow_google_signals": False,
                "allow_ad_personalization_signals": False,
                "cookie_expires": 365 * 24 * 3600,
            },
        ]
    ]
    assert {"_ga", "_ga_TEST123"} <= visitor.cookie_names()
    record = consent_log().get()
    assert record.categories == ["analytics"]
    # The visitor can see the consent id they would quote in a request.
    page.get_by_role("link", name="Cookie settings").click()
    assert dialog.locator("[data-consent-id]").inner_text() == str(record.consent_id)
    assert dialog.get_by_role("switch", name="Allow analytics cookies").is_checked()
    # Every later page loads the tag straight away, without asking again.
    page = visitor.open("/privacy-policy/")
    assert page.locator("#cookie-banner").is_hidden()
    assert wait_for(lambda: page.evaluate("window.__standInLoads") == 1)


@pytest.mark.obligation("P41", "P18")
def test_withdrawing_consent_stops_analytics_and_deletes_its_cookies(visit, analytics_host):
    visitor = visit()
    page = visitor.open("/")
    choose(page, "Accept all")
    assert wait_for(lambda: "_ga" in visitor.cookie_names())

    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    dialog = page.get_by_role("dialog", name="Cookie settings")
    dialog.get_by_role("switch", name="Allow analytics cookies").uncheck()
    choose(page, "Save my choices", within="#cookie-preferences")

    assert not {"_ga", "_ga_TEST123"} & visitor.cookie_names()
    assert consent_commands(page, "update") == [{"analytics_storage": "granted"}, {"analytics_storage": "denied"}]
    assert page.evaluate(f"window['ga-disable-{MEASUREMENT_ID}']") is True
    assert page.get_by_role("status").inner_text() == ("Your cookie choices are saved: only strictly necessary cookies are used.")
    first, second = consent_log()
    assert (first.categories, second.categories) == (["analytics"], [])
    assert first.consent_id == second.consent_id
    loads_before = len(analytics_host.requests)
    page = visitor.open("/")
    assert len(analytics_host.requests) == loads_before
    assert not {"_ga", "_ga_TEST123"} & visitor.cookie_names()


@pytest.mark.obligation("P18", "P41")
@pytest.mark.parametrize(
    "signal",
    [
        pytest.param({"extra_http_headers": {"Sec-GPC": "1"}}, id="Sec-GPC header"),
        pytest.param({}, id="navigator.globalPrivacyControl"),
    ],
)
def test_global_privacy_control_is_recorded_as_a_refusal(visit, analytics_host, signal):
    visitor = visit(**signal)
    if not signal:
        visitor.context.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true})"
        )

    with visitor.page.expect_response(lambda response: "/cookies/consent" in response.url):
        page = visitor.open("/")

    assert wait_for(lambda: consent_log().exists())
    record = consent_log().get()
    assert (record.categories, record.gpc) == ([], True)
    assert page.locator("#cookie-banner").is_hidden()
    assert visitor.cookie_names() <= necessary_cookie_names()
    assert analytics_host.requests == []
    page.get_by_role("link", name="Cookie settings").click()
    assert page.get_by_role("dialog").get_by_text("Global Privacy Control signal").is_visible()


def test_a_choice_that_could_not_be_saved_says_why_in_words(visit, analytics_host, settings):
    visitor = visit()
    page = visitor.open("/")
    status = page.locator("[data-consent-status]")
    accept_all = page.locator("#cookie-banner").get_by_role("button", name="Accept all", exact=True)

    # A proxy in front of us answers with its own HTML page: the visitor hears a sentence, not a parse error.
    page.route(
        "**/cookies/consent", lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>Bad Gateway</h1>")
    )
    accept_all.click()
    assert wait_for(lambda: status.text_content() == "Your choice could not be saved. Please try again.")

    # Our own refusal carries its reason.
    page.unroute("**/cookies/consent")
    settings.COOKIE_CONSENT_LIMIT_PER_HOUR = 0
    accept_all.click()
    assert wait_for(lambda: status.text_content().startswith("Too many cookie choices came from your network"))

    assert page.locator("#cookie-banner").is_visible()
    assert analytics_host.requests == []
    assert consent_log().count() == 0


@pytest.mark.obligation("P18", "P53")
def test_a_new_cookie_policy_version_asks_again_and_pauses_analytics(visit, analytics_host):
    visitor = visit()
    page = visitor.open("/")
    choose(page, "Accept all")
    assert wait_for(lambda: len(analytics_host.requests) == 1)

    current = PolicyDocument.objects.get(kind=PolicyDocument.Kind.COOKIES)
    draft = policy_services.policy_document_draft_from(document=current)
    policy_services.policy_document_publish(document=draft)

    page = visitor.open("/")
    assert page.locator("#cookie-banner").is_visible()
    assert len(analytics_host.requests) == 1
    assert "_ga" not in visitor.cookie_names()
    choose(page, "Accept all")
    assert consent_log().last().policy_version == 2


@pytest.mark.obligation("P32")
def test_a_choice_older_than_twelve_months_is_asked_again(visit, analytics_host, live_server):
    visitor = visit()
    thirteen_months_ago = int((timezone.now() - datetime.timedelta(days=396)).timestamp())
    visitor.context.add_cookies(
        [{"name": "ns_consent", "value": f"1.{'a' * 32}.analytics.1.{thirteen_months_ago}.0", "url": live_server.url}]
    )

    page = visitor.open("/")

    assert page.locator("#cookie-banner").is_visible()
    assert analytics_host.requests == []


@pytest.mark.obligation("P41", "P51")
def test_the_banner_and_settings_work_with_the_keyboard_alone(visit, analytics_host):
    visitor = visit()
    page = visitor.open("/")
    keyboard = page.keyboard

    def tab_to(description: str, limit: int = 60) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if page.evaluate(FOCUSED_NAME) == description:
                return
        raise AssertionError(f"Tab never reached {description!r}")

    # The banner is first in the tabbing order, before the skip link.
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#cookie-banner') !== null")
    tab_to("Manage preferences")
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cookie settings")
    assert dialog.is_visible()
    tab_to("Allow analytics cookies")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "switch"
    keyboard.press("Space")
    tab_to("Save my choices")
    dialog_closed(page, lambda: saved_choice(page, lambda: keyboard.press("Enter")))

    assert dialog.is_hidden()
    assert page.evaluate("document.activeElement.id") == "main"  # the banner that opened it is gone
    assert consent_log().get().categories == ["analytics"]
    assert wait_for(lambda: len(analytics_host.requests) == 1)

    # Reopen from the footer; Escape leaves the dialog and focus returns to the link.
    tab_to("Cookie settings", limit=80)
    keyboard.press("Enter")
    assert dialog.is_visible()
    dialog_closed(page, lambda: keyboard.press("Escape"))
    assert dialog.is_hidden()
    assert page.evaluate(FOCUSED_NAME) == "Cookie settings"
    # No focus trap outside the dialog: Tab keeps moving through the page.
    keyboard.press("Tab")
    assert page.evaluate(FOCUSED_NAME) == "Terms of Service"
