from django.apps import AppConfig


class CookiesConfig(AppConfig):
    name = "cookies"
    verbose_name = "Cookies and consent"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the cache invalidation)
