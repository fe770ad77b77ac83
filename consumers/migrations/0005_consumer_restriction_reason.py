"""Why processing of a consumer is restricted: free text about the person, so
encrypted on the record (and erased with it) instead of in the audit trail."""

from django.db import migrations

import nextsupport.fields


class Migration(migrations.Migration):
    dependencies = [("consumers", "0004_consent_ledger_by_number")]

    operations = [
        migrations.AddField(
            model_name="consumer",
            name="restriction_reason",
            field=nextsupport.fields.EncryptedTextField(blank=True, max_length=300, null=True),
        ),
    ]
