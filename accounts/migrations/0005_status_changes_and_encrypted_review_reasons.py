"""Organisation status changes get their own row (with the reason, encrypted), and
onboarding-review reasons are encrypted: free text about a client can name people,
so it lives where retention and erasure reach it, never in the audit trail.

The review reason moves column by column: a new encrypted column bound to the
final field name, a copy of every reason through the field (so it is encrypted
with the active key), then the plain column goes and the new one takes its name.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import nextsupport.fields

_REASON_AAD = "accounts.onboardingreview.reason"


def encrypt_reasons(apps, schema_editor):
    OnboardingReview = apps.get_model("accounts", "OnboardingReview")
    for review in OnboardingReview.objects.exclude(reason="").iterator(chunk_size=500):
        review.reason_encrypted = review.reason
        review.save(update_fields=["reason_encrypted"])


def decrypt_reasons(apps, schema_editor):
    OnboardingReview = apps.get_model("accounts", "OnboardingReview")
    for review in OnboardingReview.objects.exclude(reason_encrypted__isnull=True).iterator(chunk_size=500):
        review.reason = review.reason_encrypted
        review.save(update_fields=["reason"])


STATUSES = [("active", "Active"), ("suspended", "Suspended"), ("closed", "Closed")]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_compliance_group"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="onboardingreview",
            name="reason_encrypted",
            field=nextsupport.fields.EncryptedTextField(associated_data=_REASON_AAD, blank=True, null=True),
        ),
        migrations.RunPython(encrypt_reasons, decrypt_reasons),
        migrations.RemoveField(model_name="onboardingreview", name="reason"),
        migrations.RenameField(model_name="onboardingreview", old_name="reason_encrypted", new_name="reason"),
        # Under its final name the field binds to the same associated data by default.
        migrations.AlterField(
            model_name="onboardingreview",
            name="reason",
            field=nextsupport.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="OrganisationStatusChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("previous_status", models.CharField(choices=STATUSES, max_length=16)),
                ("status", models.CharField(choices=STATUSES, max_length=16)),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("reason", nextsupport.fields.EncryptedTextField(blank=True, max_length=1000, null=True)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="accounts.organisation",
                    ),
                ),
            ],
            options={"ordering": ["-changed_at", "-pk"]},
        ),
    ]
