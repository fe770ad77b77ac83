from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import urls as accounts_urls
from consumers.urls import public_urlpatterns as consumers_public

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy-policy/", views.privacy_policy, name="privacy-policy"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # allauth first: our own /accounts/2fa/ pages sit beside its pages.
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("api/v1/", include((accounts_urls.api_urlpatterns, "accounts-api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *consumers_public,
    path("app/o/<int:org_id>/", include("consumers.urls", namespace="consumers")),
    path("api/v1/orgs/<int:org_id>/", include("consumers.api_urls", namespace="consumers-api")),
]
