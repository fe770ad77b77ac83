"""Seed the records of evidence: the record-of-processing entries for the registry's categories,
the sub-processors the platform is built on, the compliance roles, and version 2 of the
sub-processors page, whose list is now rendered from the register (compliance.views)."""

import datetime

from django.db import migrations
from django.utils import timezone

from accounts.compliance_group import grant_to_compliance

PROCESSORS_VIA = (
    "Our sub-processors for the service (hosting and storage in AWS London; telephony with Twilio; "
    "our e-mail delivery provider), as listed on the sub-processors page."
)

# category: (purpose, lawful basis, basis detail, recipients, safeguard, transfer detail)
ROPA = {
    "client_account": (
        "Running client accounts: sign-in, team membership, agreements, notices and billing.",
        "contract",
        "Our Terms of Service with the client; security logging of sign-ins is in our legitimate interest.",
        "Hosting (AWS, London); our e-mail delivery provider for account e-mails.",
        "uk",
        "Held in the UK. E-mail delivery follows the provider's safeguard in the sub-processor register.",
    ),
    "client_contact": (
        "Contacting clients about their service, statements and security notices.",
        "contract",
        "Our Terms of Service with the client.",
        "Hosting (AWS, London); our e-mail delivery provider.",
        "uk",
        "Held in the UK. E-mail delivery follows the provider's safeguard in the sub-processor register.",
    ),
    "consumer": (
        "Placing the calls our clients instruct, to the contact lists they supply.",
        "client",
        "The client is controller and relies on its own basis (consent or contract), checked at onboarding.",
        PROCESSORS_VIA + " The client that supplied the list.",
        "sccs_addendum",
        "Numbers called reach Twilio (Ireland and the United States): EU SCCs with the UK Addendum in Twilio's DPA.",
    ),
    "consent": (
        "Keeping evidence of consent for marketing calls (PECR 2003 regulation 21).",
        "legal_obligation",
        "PECR 2003 and UK GDPR Art. 7(1): we must be able to show consent was given.",
        "Hosting (AWS, London); the client that collected the consent.",
        "uk",
        "Held in the UK.",
    ),
    "suppression": (
        "Honouring opt-outs and the do-not-call lists so a number is never called against its owner's wishes.",
        "legal_obligation",
        "PECR 2003 regulation 21 and the TPS: opted-out numbers are kept only as a blind index to keep them off lists.",
        "Hosting (AWS, London).",
        "uk",
        "Held in the UK.",
    ),
    "call_interaction": (
        "Carrying out calls and giving clients their results; quality assurance and Ofcom compliance.",
        "client",
        "The client is controller; our own quality monitoring is in our legitimate interest (LBP Regulations 2000).",
        PROCESSORS_VIA + " The client that ran the campaign; a language-model provider when one is configured.",
        "sccs_addendum",
        "Call audio and events pass through Twilio (Ireland and the United States): EU SCCs with the UK Addendum.",
    ),
    "recording": (
        "Recording calls where permitted and announced, for quality assurance and disputes.",
        "client",
        "The client is controller; recording is announced to the person called (LBP Regulations 2000).",
        "Twilio records the call; the file is moved to encrypted storage in AWS London. The client that ran the campaign.",
        "sccs_addendum",
        "Twilio (Ireland and the United States) under EU SCCs with the UK Addendum; stored in the UK.",
    ),
    "cookie_consent": (
        "Proving the cookie choice each visitor made (PECR 2003 regulation 6).",
        "legal_obligation",
        "PECR 2003 and UK GDPR Art. 7(1).",
        "Hosting (AWS, London).",
        "uk",
        "Held in the UK; only a keyed hash of the visitor's network is kept.",
    ),
    "form_submission": (
        "Answering enquiries sent through the website's contact form.",
        "legitimate_interests",
        "Answering the person who wrote to us is in our and their legitimate interest.",
        "Hosting (AWS, London); our e-mail delivery provider for the acknowledgement and replies.",
        "uk",
        "Held in the UK. E-mail delivery follows the provider's safeguard in the sub-processor register.",
    ),
    "data_subject_request": (
        "Carrying out data-subject requests and keeping evidence that we did.",
        "legal_obligation",
        "UK GDPR Art. 12 to 22 and Art. 5(2) (accountability).",
        "Hosting (AWS, London); our e-mail delivery provider; Twilio for verification codes by SMS or voice; "
        "the clients that control the items concerned.",
        "sccs_addendum",
        "Held in the UK; verification by phone passes through Twilio under EU SCCs with the UK Addendum.",
    ),
    "security_log": (
        "Security and accountability: the audit trail, breach register, disclosures to authorities.",
        "legal_obligation",
        "UK GDPR Art. 5(2), 30, 32 and 33(5); kept in our legitimate interest in keeping the platform secure.",
        "Hosting (AWS, London); the ICO or law enforcement when the law requires (logged as disclosures).",
        "uk",
        "Held in the UK.",
    ),
}

# service: (name, purpose, data, location, safeguard, dpa_status, notes)
SUBPROCESSORS = {
    "hosting:aws": (
        "Amazon Web Services EMEA SARL",
        "Cloud hosting and databases for the platform",
        "Everything the platform holds, encrypted at rest",
        "London (eu-west-2), United Kingdom",
        "uk",
        "provider_terms",
        "AWS Data Processing Addendum, part of the AWS Service Terms.",
    ),
    "storage:s3": (
        "Amazon Web Services EMEA SARL (Amazon S3)",
        "Encrypted file storage, including call recordings and contact-list uploads",
        "Uploaded contact lists, exports, call recordings",
        "London (eu-west-2), United Kingdom",
        "uk",
        "provider_terms",
        "Used when AWS_STORAGE_BUCKET_NAME is set; the region comes from AWS_S3_REGION_NAME.",
    ),
    "telephony:twilio": (
        "Twilio Ireland Limited, with Twilio Inc.",
        "Places the calls, plays the conversation, records calls where announced, sends verification codes",
        "Phone numbers called, call audio and recordings, call events",
        "Ireland and the United States",
        "sccs_addendum",
        "provider_terms",
        "Twilio's DPA incorporates the EU SCCs with the UK Addendum (an IDTA is the alternative if Twilio offers it).",
    ),
    "email:smtp": (
        "Our e-mail delivery (SMTP) provider",
        "Delivers the platform's e-mails: account notices, enquiry replies, data-subject request messages",
        "E-mail addresses and the contents of those e-mails",
        "Not recorded yet",
        "not_recorded",
        "missing",
        "The vendor is whatever EMAIL_HOST names in production: replace this row's name, location, safeguard and "
        "DPA status with that vendor's before go-live.",
    ),
    "analytics:google-analytics": (
        "Google Ireland Limited",
        "Google Analytics for this website, only for visitors who allow analytics cookies",
        "Pseudonymous visit data: pages viewed, device and browser, approximate location",
        "Ireland, with transfers to the United States",
        "sccs_addendum",
        "provider_terms",
        "Google Ads Data Processing Terms (SCCs with the UK Addendum). Used only when GOOGLE_ANALYTICS_MEASUREMENT_ID is set.",
    ),
}

SUBPROCESSORS_PAGE = """Last updated: 1 December 2026
These are the companies that process personal data on NextSupport's behalf when we provide our services and run this website. Each is bound by a data processing agreement, and any transfer outside the UK is protected by a safeguard: UK adequacy regulations, the UK International Data Transfer Agreement, or the EU Standard Contractual Clauses with the UK Addendum.
The list below is generated from our sub-processor register and from the services the platform is configured to use, so it always shows who processes data today.
Changes to this list
We update this list before a new sub-processor starts processing personal data. Clients are e-mailed about significant changes and may object under their data processing agreement. Earlier versions stay available below.
Questions
Write to compliance@nextsupport.co.uk."""


def seed(apps, schema_editor):
    ProcessingActivity = apps.get_model("compliance", "ProcessingActivity")
    for category, (purpose, basis, detail, recipients, safeguard, transfer) in ROPA.items():
        ProcessingActivity.objects.get_or_create(
            category=category,
            defaults={
                "purpose": purpose,
                "lawful_basis": basis,
                "lawful_basis_detail": detail,
                "recipients": recipients,
                "transfer_safeguard": safeguard,
                "transfer_detail": transfer,
            },
        )
    SubProcessor = apps.get_model("compliance", "SubProcessor")
    for service, (name, purpose, data, location, safeguard, dpa, notes) in SUBPROCESSORS.items():
        SubProcessor.objects.get_or_create(
            service=service,
            defaults={
                "name": name,
                "purpose": purpose,
                "data_processed": data,
                "location": location,
                "transfer_safeguard": safeguard,
                "dpa_status": dpa,
                "notes": notes,
            },
        )
    publish_page(apps)


def publish_page(apps):
    PolicyDocument = apps.get_model("nextsupport", "PolicyDocument")
    if PolicyDocument.objects.filter(kind="subprocessors", version__gte=2).exists():
        return
    PolicyDocument.objects.create(
        kind="subprocessors",
        version=2,
        title="Sub-processors",
        summary_of_changes="The list is now generated from our sub-processor register and names every provider in use.",
        body=SUBPROCESSORS_PAGE,
        status="published",
        effective_date=datetime.date(2026, 12, 1),
        published_at=timezone.now(),
    )


def create_roles(apps, schema_editor):
    from compliance.roles import sync_roles

    sync_roles(apps)


def remove_roles(apps, schema_editor):
    from compliance.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_records"),
        ("nextsupport", "0006_publish_site_documents"),
        ("accounts", "0004_compliance_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(create_roles, remove_roles),
        # The existing "Compliance" group works the registers as a compliance officer does.
        grant_to_compliance(
            "compliance",
            [
                *(
                    f"{verb}_{model}"
                    for model in ("breach", "processingactivity", "subprocessor", "disclosure")
                    for verb in ("view", "add", "change")
                ),
                "view_breachaction",
                "view_breachclientnotice",
                "view_breachalert",
                "view_trainingrecord",
                "add_trainingrecord",
                "approve_disclosure",
            ],
        ),
    ]
