from django.urls import path

from . import views

# Every first visit posts here: the project's URLconf lists it first, so matching it
# costs one pattern rather than a walk through every route before it.
consent_urlpatterns = [
    path("cookies/consent", views.record_consent, name="cookie-consent"),
]

urlpatterns = [
    path("cookie-policy/", views.cookie_policy, name="cookie-policy"),
    path("cookie-policy/version-<int:version>/", views.cookie_policy, name="cookie-policy-version"),
]
