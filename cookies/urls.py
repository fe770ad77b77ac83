from django.urls import path

from . import views

urlpatterns = [
    path("cookie-policy/", views.cookie_policy, name="cookie-policy"),
    path("cookie-policy/version-<int:version>/", views.cookie_policy, name="cookie-policy-version"),
    path("cookies/consent", views.record_consent, name="cookie-consent"),
]
