from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from . import receivers  # noqa: F401  (connects to accounts' signals)
