"""Publish version 1 of the Terms of Service and the Data Processing Agreement
(docs/legal/*-v1.txt), which every client organisation accepts at sign-up (P53)."""

import datetime
from pathlib import Path

from django.db import migrations
from django.utils import timezone

LEGAL = Path(__file__).resolve().parents[2] / "docs" / "legal"
DOCUMENTS = [
    ("terms", "Terms of Service", "terms-of-service-v1.txt"),
    ("dpa", "Data Processing Agreement", "data-processing-agreement-v1.txt"),
]


def publish(apps, schema_editor):
    PolicyDocument = apps.get_model("nextsupport", "PolicyDocument")
    for kind, title, filename in DOCUMENTS:
        if PolicyDocument.objects.filter(kind=kind).exists():
            continue  # already published (by staff, or an earlier run)
        PolicyDocument.objects.create(
            kind=kind,
            version=1,
            title=title,
            body=(LEGAL / filename).read_text(encoding="utf-8"),
            summary_of_changes="First version.",
            status="published",
            effective_date=datetime.date(2026, 11, 16),
            published_at=timezone.now(),
        )


def unpublish(apps, schema_editor):
    PolicyDocument = apps.get_model("nextsupport", "PolicyDocument")
    PolicyDocument.objects.filter(kind__in=[kind for kind, _, _ in DOCUMENTS], version=1, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organisation_profile_keys_agreements_security"),
        ("nextsupport", "0003_policy_document"),
    ]

    operations = [migrations.RunPython(publish, unpublish)]
