"""The demo campaign for `make run`: a customer-support follow-up whose calls the simulator plays.

Everything goes through the real services: the list is uploaded, attested and
imported, the caller ID verified, the script saved, the campaign launched; the
dispatcher (Celery beat, every 5 s) then calls its people through the
simulator, whose simulated people (chosen by each number's last two digits,
campaigns.telephony.simulator.PERSONAS) answer, opt out, ask for a person, go
to voicemail, hang up, or meet a network fault (an abandoned call). Calls are
recorded, so the call pages have recordings to play.

The calling window is the gate's to enforce, at any hour `make run` starts:
when it is outside the window in London, the demo's people are given a time
zone where it is the middle of the day, and the console says so.
"""

import datetime
import zoneinfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.utils import timezone

from campaigns import script, services
from campaigns.models import CallerId, Campaign
from campaigns.telephony.simulator import Persona, example_number
from consumers import services as consumer_services
from consumers.models import ContactList, LawfulBasisAttestation
from consumers.rows import suggest_mapping

CAMPAIGN_NAME = "Boiler service follow-up (demo)"
LIST_NAME = "Boiler service customers (demo)"
LATE_LIST_NAME = "Boiler service customers, this week (demo)"
CALLER_ID = "0113 496 0000"
TRANSFER_NUMBER = "0113 496 0999"
# Who the campaign calls. The network fault (an abandoned call) is on a second list imported
# after the first, so it is called last: one abandoned call among a couple of dozen pauses the
# campaign (Ofcom's 3%), which the demo shows once the others have been called.
PEOPLE = [
    (Persona.COOPERATIVE, 0),
    (Persona.STOP, 0),
    (Persona.PERSON_ANSWERED, 0),
    (Persona.COOPERATIVE, 1),
    (Persona.VOICEMAIL, 0),
    (Persona.KEYPAD, 0),
    (Persona.COOPERATIVE, 2),
    (Persona.BUSY, 0),
    (Persona.HANGS_UP, 0),
    (Persona.COOPERATIVE, 3),
    (Persona.PERSON_UNANSWERED, 0),
    (Persona.NO_ANSWER, 0),
    (Persona.COOPERATIVE, 4),
    (Persona.SILENCE, 0),
    (Persona.KEYPAD, 1),
    (Persona.COOPERATIVE, 5),
    (Persona.COOPERATIVE, 6),
    (Persona.COOPERATIVE, 7),
]
LATE_PEOPLE = [(Persona.FAULT, 0)]
NAMES = [
    "Ada Lovelace", "Ben Okafor", "Chloe Price", "Dev Patel", "Ella Byrne", "Finn Walsh", "Grace Hall", "Hari Shah",
    "Isla Reid", "Jack Moss", "Kira Lane", "Liam Ford", "Maya Cole", "Noah Webb", "Olga Sims", "Priya Nair",
    "Quinn Day", "Rosa Bell",
]  # fmt: skip
LATE_NAMES = ["Sam Hart"]
_DAYTIME_ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Dubai",
]


def load(organisation, owner) -> str:
    """Create and launch the demo campaign once; returns a line for the console."""
    existing = Campaign.objects.filter(organisation=organisation, name=CAMPAIGN_NAME).first()
    if existing is not None:
        return f"Demo campaign: '{existing}' is {existing.get_state_display().lower()} (it was launched on an earlier run)."
    zone = _zone_in_calling_hours()
    lists = [
        _imported_list(organisation, owner, LIST_NAME, PEOPLE, NAMES, zone),
        _imported_list(organisation, owner, LATE_LIST_NAME, LATE_PEOPLE, LATE_NAMES, zone),
    ]
    campaign = services.campaign_create(
        organisation=organisation,
        by=owner,
        contact_lists=lists,
        name=CAMPAIGN_NAME,
        purpose=Campaign.Purpose.SUPPORT,
        lawful_basis=Campaign.LawfulBasis.CONTRACT,
        caller_id=_verified_caller_id(organisation, owner),
        transfer_number=TRANSFER_NUMBER,
        calling_days=list(range(7)),
        window_start=datetime.time(8, 0),
        window_end=datetime.time(21, 0),
        call_on_bank_holidays=True,
        max_concurrent_calls=8,
        retry_spacing_minutes=60,
        record_calls=True,
    )
    services.script_version_save(campaign=campaign, content=script.EXAMPLE, by=owner)
    services.campaign_launch(campaign=campaign, by=owner)
    where = (
        "" if zone == "Europe/London" else f" (it is outside calling hours in London, so its people live in {zone} for the demo)"
    )
    people = len(PEOPLE) + len(LATE_PEOPLE)
    return f"Demo campaign: '{CAMPAIGN_NAME}' launched with {people} people{where}; its calls start within seconds."


def _zone_in_calling_hours() -> str:
    now = timezone.now()
    for name in _DAYTIME_ZONES:
        if 9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 18:
            return name
    return "Europe/London"


def _imported_list(organisation, owner, name: str, people, names, zone: str) -> ContactList:
    contact_list = consumer_services.contact_list_create(
        organisation=organisation, name=name, purpose=ContactList.Purpose.SERVICE, created_by=owner
    )
    consumer_services.contact_list_attest(
        contact_list=contact_list,
        basis=LawfulBasisAttestation.Basis.CONTRACT,
        wording="Customers whose boiler we serviced last month; the follow-up call is part of their service contract.",
        by=owner,
    )
    rows = ["Phone,Name,Postcode,Time zone"]
    rows += [f"{example_number(p, i)},{name},LS1 4AP,{zone}" for (p, i), name in zip(people, names, strict=True)]
    upload = SimpleUploadedFile("demo-customers.csv", ("\r\n".join(rows) + "\r\n").encode(), content_type="text/csv")
    job = consumer_services.import_job_create(contact_list=contact_list, upload=upload, uploaded_by=owner)
    consumer_services.import_job_start(job=job, mapping=suggest_mapping(job.columns), by=owner)
    # The worker would run it moments later; the demo needs it done before launching.
    consumer_services.import_job_run(job_id=job.pk)
    return contact_list


def _verified_caller_id(organisation, owner) -> CallerId:
    caller_id = CallerId.objects.filter(organisation=organisation, number_index__matches=CALLER_ID).first()
    if caller_id is None:
        # The demo verifies its own number the way the provider's webhook would, at once,
        # rather than waiting for a simulated person to key the code in.
        with override_settings(TELEPHONY_SIMULATOR_AUTORUN=False):
            caller_id = services.caller_id_request(organisation=organisation, number=CALLER_ID, label="Leeds office", by=owner)
    return services.caller_id_verification_result(caller_id=caller_id, succeeded=True)
