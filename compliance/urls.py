from django.urls import path

from . import request_views, views

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    # --- Records and evidence ---
    path("sub-processors/", views.sub_processors, name="sub-processors"),
    path("sub-processors/version-<int:version>/", views.sub_processors, name="sub-processors-version"),
]

# --- Data-subject requests (compliance.request_views) ---
urlpatterns += [
    path("your-rights/", request_views.your_rights, name="your-rights"),
    path("your-rights/verify/", request_views.verify, name="rights-verify"),
    path("your-rights/verify/<str:token>/", request_views.verify_link, name="rights-verify-link"),
    path("your-rights/requests/<str:reference>/", request_views.request_page, name="rights-request"),
    path("your-rights/requests/<str:reference>/download/<str:token>/", request_views.download, name="rights-download"),
]
