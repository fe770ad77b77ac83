from django.urls import path

from . import views

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    # --- Records and evidence ---
    path("sub-processors/", views.sub_processors, name="sub-processors"),
    path("sub-processors/version-<int:version>/", views.sub_processors, name="sub-processors-version"),
]
