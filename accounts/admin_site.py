"""The Django admin: NextSupport staff only, and only with a verified second factor (P25).

There is no separate admin sign-in form: /admin/login/ sends people to the one
sign-in page (allauth: rate limits, lockout, audit), after which the same
second factor as the portal is required.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    site_header = "NextSupport back office"
    site_title = "NextSupport admin"
    index_title = "Compliance and client accounts"

    def __init__(self, name="admin"):
        super().__init__(name)

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, reverse("account_login"))
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("The admin is for NextSupport staff.")
        return redirect(next_url)
