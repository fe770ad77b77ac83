"""The "Compliance" staff group: what NextSupport's compliance officers may do in the admin.

Staff are never superusers by default; they get their powers from this group.
Apps added later grant their own admin permissions to the group in their own
migrations, with accounts.compliance_group.grant_to_compliance.
"""

from django.db import migrations

from accounts.compliance_group import GROUP, grant_to_compliance

PERMISSIONS = {
    "accounts": [
        "view_user",
        "change_user",  # unlock accounts; staff and group fields stay read-only for non-superusers
        "view_organisation",
        "change_organisation",  # suspend, contract dates
        "view_membership",
        "view_invitation",
        "view_apikey",
        "change_apikey",  # revoke
        "view_policyacceptance",
        "view_onboardingreview",
        "add_onboardingreview",  # approve or reject new organisations (P19)
        "view_backupcodedevice",
        "delete_backupcodedevice",  # reset a person's second factor after checking who they are
    ],
    "otp_totp": ["view_totpdevice", "delete_totpdevice"],
    "nextsupport": ["view_auditevent", "view_policydocument", "add_policydocument", "change_policydocument"],
}


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_publish_terms_and_dpa"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("otp_totp", "0003_add_timestamps"),
        ("nextsupport", "0004_publish_privacy_policy"),
    ]

    operations = [
        migrations.RunPython(create_group, remove_group),
        *(grant_to_compliance(app_label, codenames) for app_label, codenames in PERMISSIONS.items()),
    ]
