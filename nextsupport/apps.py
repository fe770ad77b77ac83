from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "nextsupport"
    verbose_name = "Platform"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
