"""The consent ledger is read by (client, phone number), not by consumer row (P41).

A consumer row can be deleted with its list and created again by a later
upload; the withdrawal recorded against the earlier row must still decide.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consumers", "0003_compliance_permissions")]

    operations = [
        migrations.RemoveIndex(model_name="consentrecord", name="consumers_c_organis_f27be7_idx"),
        migrations.AddIndex(
            model_name="consentrecord",
            index=models.Index(fields=["organisation", "phone_index", "purpose", "occurred_at"], name="consent_by_org_number"),
        ),
    ]
