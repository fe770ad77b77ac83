from django.apps import AppConfig


class ConsumersConfig(AppConfig):
    name = "consumers"

    def ready(self):
        from . import dashboard

        dashboard.register()
