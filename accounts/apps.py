from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    default = True

    def ready(self):
        from . import receivers  # noqa: F401  (connects the sign-in receivers)


class AdminConfig(admin_apps.AdminConfig):
    """The Django admin as an OTP-verified site for staff (replaces django.contrib.admin)."""

    default = False
    default_site = "accounts.admin_site.AdminSite"
