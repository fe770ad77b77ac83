from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from compliance.admin_records import dashboard as compliance_dashboard
from consumers.urls import public_urlpatterns as consumers_public
from cookies import urls as cookies_urls

from . import views
from .headers import API_DOCS_CSP
from .models import PolicyDocument

Kind = PolicyDocument.Kind


def _policy_routes(prefix: str, name: str, kind: str) -> list:
    """The page of a policy in force, and its archive of published versions (P53)."""
    return [
        path(f"{prefix}/", views.policy, {"kind": kind}, name=name),
        path(f"{prefix}/version-<int:version>/", views.policy, {"kind": kind}, name=f"{name}-version"),
    ]


urlpatterns = [
    *cookies_urls.consent_urlpatterns,
    path("", views.home, name="home"),
    *_policy_routes("privacy-policy", "privacy-policy", Kind.PRIVACY),
    *_policy_routes("terms", "terms", Kind.TERMS),
    *_policy_routes("accessibility", "accessibility", Kind.ACCESSIBILITY),
    # /sub-processors/ is compliance's: the published introduction, then the live register.
    path("", include("cookies.urls")),
    path("", include("compliance.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("telephony/", include("campaigns.webhook_urls", namespace="telephony")),
    path("admin/compliance/dashboard/", admin.site.admin_view(compliance_dashboard), name="compliance-dashboard"),
    path("admin/", admin.site.urls),
    # allauth first: our own /accounts/2fa/ pages sit beside its pages.
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("api/v1/", include((accounts_urls.api_urlpatterns, "accounts-api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", csp_override(API_DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    *consumers_public,
    path("app/o/<int:org_id>/", include("consumers.urls", namespace="consumers")),
    path("app/o/<int:org_id>/", include("campaigns.urls", namespace="campaigns")),
    path("app/o/<int:org_id>/", include("compliance.portal_urls", namespace="compliance-portal")),
    path("api/v1/orgs/<int:org_id>/", include("consumers.api_urls", namespace="consumers-api")),
    path("api/v1/orgs/<int:org_id>/", include("campaigns.api_urls", namespace="campaigns-api")),
    path("api/v1/orgs/<int:org_id>/", include("compliance.api_urls", namespace="compliance-api")),
]

handler400 = "nextsupport.views.bad_request"
handler403 = "nextsupport.views.permission_denied"
handler404 = "nextsupport.views.not_found"
handler500 = "nextsupport.views.server_error"
