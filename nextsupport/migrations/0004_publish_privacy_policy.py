"""Publish the privacy policy in force (docs/privacy-policy.txt, last updated 9 May 2025) as version 1."""

import datetime
from pathlib import Path

from django.db import migrations
from django.utils import timezone

TEXT = Path(__file__).resolve().parents[2] / "docs" / "privacy-policy.txt"


def publish(apps, schema_editor):
    PolicyDocument = apps.get_model("nextsupport", "PolicyDocument")
    if PolicyDocument.objects.filter(kind="privacy").exists():
        return
    PolicyDocument.objects.create(
        kind="privacy",
        version=1,
        title="Privacy Policy",
        body=TEXT.read_text(encoding="utf-8"),
        status="published",
        effective_date=datetime.date(2025, 5, 9),
        published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("nextsupport", "0003_policy_document")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
