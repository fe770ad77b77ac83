"""The access and portability package (P35, P39, P54): everything discovery found, as one ZIP.

    data.json          every item, grouped by category and then by controller
    <category>.csv     one CSV per category, formula-safe (nextsupport.exports)
    recordings/...     the call recordings, decrypted, as the person heard the call
    summary.txt        in plain language: what we hold, why, for how long, who
                       receives it, whom to ask, and the right to complain to the ICO

Pure: builds bytes and stores nothing. The caller (the request workflow) audits
the access and hands the package over through a short-lived link, never by e-mail.
The JSON and CSV writers are nextsupport.exports', which the client account
export uses too, so both read the same way.
"""

import mimetypes
import re
from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from accounts.models import Organisation
from nextsupport import privacy
from nextsupport.exports import json_bytes, records_csv, zip_bytes

from .discovery import Discovery, Item
from .records import public_subprocessors

FORMAT = "nextsupport.access-package/1"
NEXTSUPPORT = "nextsupport"
ICO_COMPLAINTS = "https://ico.org.uk/make-a-complaint/"

# Why each category is held, in the privacy policy's words ("How We Use Your Data").
PURPOSES = {
    privacy.Category.CLIENT_ACCOUNT: "to run your client account: signing in, your team, agreements and billing",
    privacy.Category.CLIENT_CONTACT: "to contact your business about its account, contract and invoices",
    privacy.Category.CONSUMER: "to make the calls the business that gave us your details asked for, and only those",
    privacy.Category.CONSENT: "to prove what you agreed to, or withdrew, as the law on marketing calls (PECR) requires",
    privacy.Category.SUPPRESSION: "to make sure you are not called again after you asked us or a client to stop",
    privacy.Category.CALL_INTERACTION: "to record what happened on each call, for quality and to meet the rules on calls",
    privacy.Category.RECORDING: "to check the quality of calls and that they follow the rules, where you were told the call was recorded",
    privacy.Category.COOKIE_CONSENT: "to prove which cookies you allowed on our website",
    privacy.Category.FORM_SUBMISSION: "to answer the enquiry you sent us",
    privacy.Category.DATA_SUBJECT_REQUEST: "to handle your requests about your data, and to show we did",
    privacy.Category.SECURITY_LOG: "to keep accounts and data secure and to keep an audit record of access",
}
# Audio types the providers send that the mimetypes table does not know by these names.
_EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/mp3": ".mp3"}
# Internal references in a registry basis ("P30: ...", "P53/P29: ...", "... (P30) ...") are not for the reader.
_CODES = re.compile(r"^\s*P\d+(?:/P\d+)*:\s*|\s*\(P\d+(?:/P\d+)*\)")


def build_package(discovery: Discovery) -> bytes:
    """The ZIP for the subject of `discovery` (which may be empty: then it says we hold nothing)."""
    names = _controller_names(discovery)
    files: dict[str, bytes | str] = {"summary.txt": summary(discovery, names=names), "data.json": data_json(discovery, names)}
    for category, items in discovery.by_category().items():
        files[f"{category.value}.csv"] = category_csv(items, names)
    files.update(_recordings(discovery.items))
    return zip_bytes(files)


def data_json(discovery: Discovery, names: dict[int | None, str] | None = None) -> bytes:
    names = names if names is not None else _controller_names(discovery)
    categories: dict[str, dict] = {}
    for category, items in discovery.by_category().items():
        by_controller: dict[str, list[dict]] = defaultdict(list)
        for item in items:
            by_controller[_controller_key(item)].append(item.export())
        categories[category.value] = {"label": category.label, "controllers": dict(by_controller)}
    return json_bytes(
        {
            "format": FORMAT,
            "generated_at": timezone.now().isoformat(),
            "controllers": {_key(pk): {"name": name, "role": _role(pk)} for pk, name in names.items()},
            "categories": categories,
        }
    )


def category_csv(items: tuple[Item, ...], names: dict[int | None, str]) -> str:
    return records_csv(
        ({"controller": names[item.organisation_id], **item.export()} for item in items), first=("controller", "model", "id")
    )


def summary(discovery: Discovery, *, names: dict[int | None, str] | None = None) -> str:
    """The plain-language letter that opens the package."""
    names = names if names is not None else _controller_names(discovery)
    lines = [
        "A copy of the personal data NextSupport holds about you",
        f"Prepared on {timezone.localdate():%d %B %Y}.",
        "",
    ]
    lines += _what_we_hold(discovery, names) if not discovery.is_empty() else ["We hold no personal data about you.", ""]
    lines += _who_receives_it(names)
    lines += [
        "Questions, corrections and complaints",
        f"Write to our Compliance Team at {settings.COMPLIANCE_EMAIL}. You can ask us to correct, delete or restrict "
        "this data, or object to its use, at any time.",
        "If you are not happy with how we handle your data, you have the right to complain to the Information "
        f"Commissioner's Office, the UK's data-protection regulator: {ICO_COMPLAINTS}",
        "",
        "The files in this package",
        "data.json: everything above, in a structured, machine-readable form.",
        "One CSV file per kind of data, to open in a spreadsheet.",
    ]
    if any(_receives_file(item) for item in discovery.items):
        lines.append("recordings/: the recordings of your calls.")
    return "\n".join(lines) + "\n"


def _what_we_hold(discovery: Discovery, names) -> list[str]:
    lines = ["What we hold, why, and for how long"]
    for category, items in discovery.by_category().items():
        holders = sorted({names[item.organisation_id] for item in items})
        lines += [
            "",
            f"{category.label}: {len(items)} record{'s' if len(items) != 1 else ''}, held by {', '.join(holders)}.",
            f"Why: {PURPOSES.get(category, 'to provide our services')}.",
            *(f"How long: {basis}" for basis in _retention(items)),
        ]
    return [*lines, ""]


def _retention(items) -> list[str]:
    bases = dict.fromkeys(_CODES.sub("", item.registration.retention.basis) for item in items)
    return [basis[:1].upper() + basis[1:] for basis in bases]


def _who_receives_it(names: dict[int | None, str]) -> list[str]:
    lines = ["Who decides about your data, and who receives it"]
    for pk, name in names.items():
        if pk is None:
            lines.append(f"{name} decides how its own records about you are used.")
        else:
            lines.append(
                f"{name} gave us your details for its calls and decides how they are used; NextSupport processes them "
                "on its behalf. You can also ask it directly."
            )
    processors = _sub_processors()
    if processors:
        lines += ["These companies process data on NextSupport's behalf, under data processing agreements:", *processors]
    lines.append("We never sell your data or share it with anyone for their marketing.")
    return [*lines, ""]


def _sub_processors() -> list[str]:
    """The providers the public sub-processors page lists (the register, and whatever the configuration uses)."""
    return [
        f"- {entry.processor.name}: {entry.processor.purpose} ({entry.processor.location})"
        if entry.processor
        else f"- {entry.role}"
        for entry in public_subprocessors()
    ]


def _recordings(items) -> dict[str, bytes]:
    files = {}
    for item in items:
        if not _receives_file(item):
            continue
        try:
            contents = item.registration.file_reader(item.obj)
        except FileNotFoundError:
            continue  # a recording that is not (or no longer) stored: its row in data.json says so
        content_type = getattr(item.obj, "content_type", "") or ""
        extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
        files[f"recordings/{_controller_key(item)}/{item.label.split('.')[-1].lower()}-{item.obj.pk}{extension}"] = contents
    return files


def _receives_file(item: Item) -> bool:
    """Only a file whose registration says how its subject receives it (a recording) goes into the copy.
    Other stored files (an uploaded list holds many people; an earlier request's copy) go with their rows
    but are never handed to one person."""
    registration = item.registration
    return registration.file_reader is not None and any(getattr(item.obj, name) for name in registration.files)


def _controller_names(discovery: Discovery) -> dict[int | None, str]:
    ids = sorted(discovery.organisation_ids())
    organisations = {o.pk: o.display_name for o in Organisation.objects.filter(pk__in=ids)}
    names: dict[int | None, str] = {None: "NextSupport Ltd"} if any(i.organisation_id is None for i in discovery.items) else {}
    names.update({pk: organisations.get(pk, f"Client organisation {pk}") for pk in ids})
    return names


def _controller_key(item: Item) -> str:
    return _key(item.organisation_id)


def _key(organisation_id: int | None) -> str:
    return NEXTSUPPORT if organisation_id is None else f"organisation-{organisation_id}"


def _role(organisation_id: int | None) -> str:
    return "controller" if organisation_id is None else "controller (NextSupport is its processor)"
