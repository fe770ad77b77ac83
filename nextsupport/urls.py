from django.contrib import admin
from django.urls import include, path

from . import views
from .models import PolicyDocument

Kind = PolicyDocument.Kind


def _policy_routes(prefix: str, name: str, kind: str) -> list:
    """The page of a policy in force, and its archive of published versions (P53)."""
    return [
        path(f"{prefix}/", views.policy, {"kind": kind}, name=name),
        path(f"{prefix}/version-<int:version>/", views.policy, {"kind": kind}, name=f"{name}-version"),
    ]


urlpatterns = [
    path("", views.home, name="home"),
    *_policy_routes("privacy-policy", "privacy-policy", Kind.PRIVACY),
    *_policy_routes("terms", "terms", Kind.TERMS),
    *_policy_routes("accessibility", "accessibility", Kind.ACCESSIBILITY),
    *_policy_routes("sub-processors", "sub-processors", Kind.SUBPROCESSORS),
    path("your-rights/", views.your_rights, name="your-rights"),
    path("", include("cookies.urls")),
    path("", include("compliance.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
