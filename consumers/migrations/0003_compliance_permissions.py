from django.db import migrations

from accounts.compliance_group import grant_to_compliance


class Migration(migrations.Migration):
    dependencies = [("consumers", "0002_consent_ledger_append_only"), ("accounts", "0004_compliance_group")]

    operations = [
        grant_to_compliance(
            "consumers", ["view_contactlist", "view_importjob", "view_screeningregister", "view_platformsuppression"]
        )
    ]
