"""Helpers for the campaigns portal tests: reading pages as a browser would, and filling in their forms."""

from html.parser import HTMLParser

from django.test import Client

from campaigns.models import Campaign
from tests.campaigns.conftest import TRANSFER, verified_caller_id
from tests.campaigns.test_calls import transport_for
from tests.conftest import login


class _FormReader(HTMLParser):
    """The fields a browser would submit from the form holding a given button (inputs, textareas, selects)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"fields": [], "buttons": []})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if "disabled" in a:
            return  # a browser does not send a disabled field
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select = [a["name"], None]
        elif tag == "option" and self._select is not None and ("selected" in a or self._select[1] is None):
            self._select[1] = a.get("value", "")  # the first option, unless a later one is selected

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            self.forms[-1]["fields"].append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select" and self._select:
            self.forms[-1]["fields"].append(tuple(self._select))
            self._select = None


def form_data(html: str, *, button: tuple[str, str] | None = None) -> dict:
    """What submitting the form that holds `button` (name, value) would post, as a dict of lists;
    without a button, the page's largest form submitted with its unnamed button."""
    reader = _FormReader()
    reader.feed(html)
    if button is None:
        form = max(reader.forms, key=lambda f: len(f["fields"]))
    else:
        form = next(f for f in reader.forms if button in f["buttons"])
    data: dict[str, list[str]] = {}
    for name, value in [*form["fields"], *([button] if button else [])]:
        data.setdefault(name, []).append(value)
    return data


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


def signed_in(user) -> Client:
    return login(Client(), user)


def webhooks() -> Client:
    """The client the simulator's webhooks come through: nobody signed in."""
    return Client()


def play_calls(capture):
    from campaigns.models import Call
    from campaigns.telephony import simulator

    with capture(execute=True):
        for call in Call.objects.exclude(provider_sid=None).filter(status__in=Call.ON_THE_LINE):
            simulator.play_call(call.provider_sid, transport=transport_for(webhooks()))


def campaign_form(organisation, contact_lists, **changes) -> dict:
    """The new-campaign form filled in as a client would for a support follow-up."""
    data = {
        "name": "Boiler service follow-up",
        "purpose": Campaign.Purpose.SUPPORT,
        "lawful_basis": Campaign.LawfulBasis.CONTRACT,
        "contact_lists": [cl.pk for cl in contact_lists],
        "caller_id": verified_caller_id(organisation).pk,
        "transfer_number": TRANSFER,
        "calling_days": ["0", "1", "2", "3", "4", "5"],
        "window_start": "09:00",
        "window_end": "20:00",
        "timezone": "Europe/London",
        "start_date": "",
        "end_date": "",
        "max_attempts": "3",
        "retry_spacing_minutes": "240",
        "max_concurrent_calls": "5",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
