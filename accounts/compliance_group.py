"""The "Compliance" staff group, for migrations that grant it an app's admin permissions.

accounts migration 0004 creates the group; every app whose admin compliance
staff use grants its own permissions in a migration of its own:

    operations = [grant_to_compliance("cookies", ["view_registerentry", ...])]
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Compliance"


def grant_to_compliance(app_label: str, codenames: list[str]) -> migrations.RunPython:
    def grant(apps, schema_editor):
        # Permissions are normally created after all migrations ran; this one needs them now.
        config = apps.get_app_config(app_label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
        Permission = apps.get_model("auth", "Permission")
        group = apps.get_model("auth", "Group").objects.get(name=GROUP)
        found = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(found.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the Compliance group: {sorted(missing)}")
        group.permissions.add(*found)

    def revoke(apps, schema_editor):
        Permission = apps.get_model("auth", "Permission")
        group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))

    return migrations.RunPython(grant, revoke)
