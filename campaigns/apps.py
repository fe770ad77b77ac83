from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from . import checks, receivers  # noqa: F401  (registers the deploy checks; connects to accounts' signals)
