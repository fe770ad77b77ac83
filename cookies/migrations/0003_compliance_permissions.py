from django.db import migrations

from accounts.compliance_group import grant_to_compliance


class Migration(migrations.Migration):
    dependencies = [("cookies", "0002_seed_register"), ("accounts", "0004_compliance_group")]

    operations = [
        grant_to_compliance(
            "cookies",
            ["view_registerentry", "add_registerentry", "change_registerentry", "delete_registerentry", "view_consentrecord"],
        )
    ]
