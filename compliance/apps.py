from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self):
        from . import checks, roles  # noqa: F401  (checks registers itself)

        # The roles follow their rule after every migrate, for models added since (compliance.roles).
        post_migrate.connect(roles.sync_roles_after_migrate, sender=self, dispatch_uid="compliance-roles")
