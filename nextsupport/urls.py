from django.contrib import admin
from django.urls import include, path

from consumers.urls import public_urlpatterns as consumers_public

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy-policy/", views.privacy_policy, name="privacy-policy"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    *consumers_public,
    path("app/o/<int:org_id>/", include("consumers.urls", namespace="consumers")),
    path("api/v1/orgs/<int:org_id>/", include("consumers.api_urls", namespace="consumers-api")),
]
