from django.db import migrations

from accounts.compliance_group import grant_to_compliance


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_usage_statements"), ("accounts", "0004_compliance_group")]

    # Compliance staff see every campaign, call, caller ID and statement, set the organisation
    # caps, and may review a call's transcript and recording (each review audited, P13).
    operations = [
        migrations.AlterModelOptions(
            name="call",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [("review_call", "Can review a call's transcript and recording (audited)")],
            },
        ),
        grant_to_compliance(
            "campaigns",
            [
                "view_campaign",
                "view_call",
                "view_callerid",
                "view_callinglimit",
                "add_callinglimit",
                "change_callinglimit",
                "view_usagestatement",
                "review_call",
            ],
        ),
    ]
