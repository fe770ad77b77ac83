from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from . import checks, dashboard, receivers  # noqa: F401  (deploy checks; accounts' signals)

        dashboard.register()
