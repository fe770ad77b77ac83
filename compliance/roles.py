"""The compliance staff roles, as Django groups: what each may do in the admin.

    Data protection officer   every permission (but no one may add, change or delete audit events)
    Compliance officer        the same, except managing staff users, groups and permissions
    Compliance support        views the compliance records (enquiries, data-subject requests, the
                              breach register), never a disclosure to an authority; changes nothing

The rule is this module: a data migration creates the groups, and `sync_roles` runs again
after every `migrate`, so the permissions of models added later join the roles by the rule
(a new compliance model is viewable by support, editable by officers) without a migration
for each. A person's role is their group; staff are never superusers by default.
"""

from django.contrib.auth.management import create_permissions

DPO = "Data protection officer"
OFFICER = "Compliance officer"
SUPPORT = "Compliance support"
ROLES = (DPO, OFFICER, SUPPORT)

# Never granted: the audit trail is append-only for everyone.
NOBODY = {("nextsupport", "add_auditevent"), ("nextsupport", "change_auditevent"), ("nextsupport", "delete_auditevent")}
# Administering people's access: the DPO only.
ACCESS_ADMIN_MODELS = {("auth", "group"), ("auth", "permission"), ("accounts", "user")}
# Support never sees what was handed to the police or a regulator.
SUPPORT_HIDDEN_MODELS = {("compliance", "disclosure")}


def role_permissions(permissions) -> dict[str, set[tuple[str, str]]]:
    """Each role's (app_label, codename) pairs, out of `permissions`: (app_label, model, codename) triples."""
    everything = {(app, code) for app, _model, code in permissions} - NOBODY
    access_admin = {
        (app, code) for app, model, code in permissions if (app, model) in ACCESS_ADMIN_MODELS and not code.startswith("view_")
    }
    support = {
        (app, code)
        for app, model, code in permissions
        if app == "compliance" and code.startswith("view_") and (app, model) not in SUPPORT_HIDDEN_MODELS
    }
    return {DPO: everything, OFFICER: everything - access_admin, SUPPORT: support}


def sync_roles(apps) -> None:
    """Create the role groups and give each exactly its permissions (historical or real `apps`)."""
    for config in apps.get_app_configs():
        # Permissions are normally created after all migrations ran; the roles need them now.
        had_models = getattr(config, "models_module", None)
        config.models_module = had_models or True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    rows = list(Permission.objects.values_list("pk", "content_type__app_label", "content_type__model", "codename"))
    by_key = {(app, code): pk for pk, app, _model, code in rows}
    for role, keys in role_permissions([(app, model, code) for _pk, app, model, code in rows]).items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_key[key] for key in keys])


def sync_roles_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    from django.apps import apps as global_apps

    sync_roles(apps or global_apps)
