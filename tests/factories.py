import datetime
import decimal
import json
import secrets

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import APIKey, Invitation, Membership, Organisation, PolicyAcceptance, Role, User
from campaigns import script
from campaigns.models import (
    Call,
    CallerId,
    CallResponse,
    Campaign,
    CampaignContact,
    Recording,
    ScriptVersion,
    UsageStatement,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from consumers.models import (
    ConsentRecord,
    Consumer,
    ContactList,
    ImportJob,
    Suppression,
    SuppressionReason,
    SuppressionSource,
)
from nextsupport.fields import digest
from nextsupport.selectors import current_policy

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@client.example")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            # A person who signed up has verified their address (allauth requires it to sign in).
            EmailAddress.objects.get_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})


class OrganisationFactory(DjangoModelFactory):
    """An established client by default: approved by compliance, with the current
    Terms and DPA accepted. `OrganisationFactory(new=True)` is one that just signed up."""

    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    class Params:
        new = factory.Trait(onboarding_status=Organisation.Onboarding.PENDING, agreements=False)

    legal_name = factory.Sequence(lambda n: f"Client {n} Ltd")
    company_number = factory.Sequence(lambda n: f"{10000000 + n}")
    onboarding_status = Organisation.Onboarding.APPROVED
    lawful_basis_statement = "Consent collected on our website sign-up form, recorded with time and wording."

    @factory.post_generation
    def agreements(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        accepted_by = UserFactory(email=f"signatory-{obj.pk}@client.example")
        for kind in ("terms", "dpa"):
            document = current_policy(kind)
            if document is not None:
                PolicyAcceptance.objects.create(organisation=obj, user=accepted_by, document=document, ip_address="192.0.2.10")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.VIEWER


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@client.example")
    role = Role.VIEWER
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class APIKeyFactory(DjangoModelFactory):
    """A key row; the usable key is on `.raw_key` (it is not stored)."""

    class Meta:
        model = APIKey
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    scope = APIKey.Scope.READ_WRITE
    prefix = ""
    hashed_key = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        prefix, raw = APIKey.generate()
        kwargs.update(prefix=prefix, hashed_key=APIKey.hash(raw))
        key = super()._create(model_class, *args, **kwargs)
        key.raw_key = raw
        return key


# --- consumers: one row of each kind, so the outsider walk has a victim row to aim at ---


class ContactListFactory(DjangoModelFactory):
    class Meta:
        model = ContactList

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Customer list {n}")
    purpose = ContactList.Purpose.SERVICE


class ConsumerFactory(DjangoModelFactory):
    class Meta:
        model = Consumer

    organisation = factory.SubFactory(OrganisationFactory)
    # The organisation's name in the person's name: a page that shows another
    # client's consumer shows the marker the walk looks for.
    name = factory.LazyAttribute(lambda o: f"Customer of {o.organisation.legal_name}")
    phone = factory.Sequence(lambda n: f"+4479111{n % 100000:05d}")
    email = factory.Sequence(lambda n: f"consumer{n}@home.example")


class ImportJobFactory(DjangoModelFactory):
    class Meta:
        model = ImportJob

    organisation = factory.SubFactory(OrganisationFactory)
    contact_list = factory.SubFactory(ContactListFactory, organisation=factory.SelfAttribute("..organisation"))
    original_filename = "customers.csv"
    size_bytes = 120
    encoding = "utf-8"
    delimiter = ","
    columns = ["name", "phone"]


class ConsentRecordFactory(DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    organisation = factory.SubFactory(OrganisationFactory)
    consumer = factory.SubFactory(ConsumerFactory, organisation=factory.SelfAttribute("..organisation"))
    phone_index = factory.LazyAttribute(lambda o: digest("phone", o.consumer.phone))
    purpose = ConsentRecord.Purpose.MARKETING_CALLS
    action = ConsentRecord.Action.GIVEN
    method = ConsentRecord.Method.WEB_FORM
    occurred_at = factory.LazyFunction(timezone.now)
    wording = "Yes, call me about offers."


class SuppressionFactory(DjangoModelFactory):
    class Meta:
        model = Suppression

    organisation = factory.SubFactory(OrganisationFactory)
    phone_index = factory.Sequence(lambda n: digest("phone", f"+4479112{n % 100000:05d}"))
    reason = SuppressionReason.OPT_OUT
    source = SuppressionSource.CLIENT_REQUEST


# --- campaigns: one row of each kind, each carrying its organisation's name where a page would show it ---


def _existing_or(model, factory_name: str, **filters):
    """The organisation's row of this kind if it has one, else a new one. The outsider walk tries every
    id of the victim in every route, so each row a factory needs but does not own costs it time."""

    def get(o):
        found = model.objects.filter(**{name: getattr(o, value) for name, value in filters.items()}).order_by("pk").first()
        return found or globals()[factory_name](**{name: getattr(o, value) for name, value in filters.items()})

    return factory.LazyAttribute(get)


class CallerIdFactory(DjangoModelFactory):
    class Meta:
        model = CallerId

    organisation = factory.SubFactory(OrganisationFactory)
    number = factory.Sequence(lambda n: f"+44113496{500 + n % 500:04d}")  # clear of the numbers tests type in
    label = factory.LazyAttribute(lambda o: f"Line of {o.organisation.legal_name}")
    provider = "simulator"
    status = CallerId.Status.VERIFIED


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = Campaign

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.LazyAttribute(lambda o: f"Campaign of {o.organisation.legal_name}")
    purpose = Campaign.Purpose.SUPPORT
    lawful_basis = Campaign.LawfulBasis.CONTRACT
    caller_id = _existing_or(CallerId, "CallerIdFactory", organisation="organisation")
    transfer_number = "+442079460999"


class ScriptVersionFactory(DjangoModelFactory):
    class Meta:
        model = ScriptVersion

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    content = factory.LazyAttribute(
        lambda o: {**script.EXAMPLE, "greeting": f"Calling from {o.campaign.organisation.legal_name} about your boiler."}
    )


class CampaignContactFactory(DjangoModelFactory):
    class Meta:
        model = CampaignContact

    campaign = factory.SubFactory(CampaignFactory)
    consumer = factory.SubFactory(ConsumerFactory, organisation=factory.SelfAttribute("..campaign.organisation"))
    next_attempt_at = factory.LazyFunction(timezone.now)
    state = CampaignContact.State.DONE
    attempts = 1
    outcome = Call.Outcome.COMPLETED_SCRIPT


class CallFactory(DjangoModelFactory):
    """A call that was answered and completed the script, with a transcript and an answer."""

    class Meta:
        model = Call
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    campaign = _existing_or(Campaign, "CampaignFactory", organisation="organisation")
    script_version = _existing_or(ScriptVersion, "ScriptVersionFactory", campaign="campaign")
    contact = factory.SubFactory(CampaignContactFactory, campaign=factory.SelfAttribute("..campaign"))
    consumer = factory.LazyAttribute(lambda o: o.contact.consumer)
    phone_index = factory.LazyAttribute(lambda o: digest("phone", o.contact.consumer.phone))
    attempt = 1
    decided_at = factory.LazyFunction(timezone.now)
    provider = "simulator"
    status = Call.Status.COMPLETED
    outcome = Call.Outcome.COMPLETED_SCRIPT
    dialled_at = factory.LazyFunction(timezone.now)
    answered_at = factory.LazyAttribute(lambda o: o.dialled_at + datetime.timedelta(seconds=8))
    first_audio_at = factory.LazyAttribute(lambda o: o.answered_at)
    first_audio_ms = 0
    ended_at = factory.LazyAttribute(lambda o: (o.answered_at or o.dialled_at) + datetime.timedelta(seconds=65))
    duration_seconds = 65
    answered_by = "human"
    transcript = factory.LazyAttribute(
        lambda o: json.dumps([{"speaker": "person", "text": f"I'm with {o.organisation.legal_name} for years.", "at": 3.0}])
    )

    @factory.post_generation
    def answered(obj, create, extracted, **kwargs):
        if create:
            CallResponse.objects.create(
                call=obj, step_id="satisfied", question="Were you happy?", value="yes", heard="Yes indeed"
            )


class RecordingFactory(DjangoModelFactory):
    class Meta:
        model = Recording

    organisation = factory.SubFactory(OrganisationFactory)
    call = factory.SubFactory(CallFactory, organisation=factory.SelfAttribute("..organisation"), records=True)
    provider_sid = factory.Sequence(lambda n: f"RE{n:032d}")
    duration_seconds = 60


class UsageStatementFactory(DjangoModelFactory):
    class Meta:
        model = UsageStatement

    organisation = factory.SubFactory(OrganisationFactory)
    period_start = datetime.date(2026, 11, 1)
    period_end = datetime.date(2026, 11, 30)
    calls_placed = 120
    calls_connected = 80
    connected_minutes = decimal.Decimal("95.50")
    campaign_lines = factory.LazyAttribute(
        lambda o: [
            {
                "campaign": 1,
                "name": f"Campaign of {o.organisation.legal_name}",
                "calls_placed": 120,
                "calls_connected": 80,
                "connected_minutes": "95.50",
            }
        ]
    )


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    organisation = factory.SubFactory(OrganisationFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.client.example/nextsupport")
    description = factory.LazyAttribute(lambda o: f"CRM of {o.organisation.legal_name}")
    events = factory.LazyFunction(lambda: list(WebhookEvent.values))
    secret_nonce = factory.LazyFunction(lambda: secrets.token_hex(32))


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    organisation = factory.SubFactory(OrganisationFactory)
    endpoint = factory.SubFactory(WebhookEndpointFactory, organisation=factory.SelfAttribute("..organisation"))
    event = WebhookEvent.CALL_COMPLETED
    payload = factory.LazyAttribute(
        lambda o: {"type": o.event, "data": {"campaign": {"id": 1, "name": f"Campaign of {o.organisation.legal_name}"}}}
    )
    state = WebhookDelivery.State.DELIVERED
    attempts = 1


# --- compliance: a data-subject request's part forwarded to a client (its inbox) ---


class DataSubjectRequestFactory(DjangoModelFactory):
    class Meta:
        model = "compliance.DataSubjectRequest"

    reference = factory.Sequence(lambda n: f"DSR-2026-{900000 + n:06d}")
    kind = "erasure"
    channel = "web"
    state = "awaiting_client"
    phone = factory.Sequence(lambda n: f"+4479112{n % 100000:05d}")
    details = "Please delete everything."
    verified_at = factory.LazyFunction(timezone.now)
    verified_by = "one-time sms"
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class RequestPartFactory(DjangoModelFactory):
    class Meta:
        model = "compliance.RequestPart"

    organisation = factory.SubFactory(OrganisationFactory)
    request = factory.SubFactory(
        DataSubjectRequestFactory,
        name=factory.LazyAttribute(lambda o: f"Requester of {o.factory_parent.organisation.legal_name}"),
    )
    item_count = 3
    categories = factory.LazyFunction(lambda: ["Consumer contact data", "Call interaction data"])
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
