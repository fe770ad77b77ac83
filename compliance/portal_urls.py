"""The client's inbox of data-subject requests, under /app/o/<org_id>/ (namespace "compliance-portal")."""

from django.urls import path

from . import portal_views

app_name = "compliance-portal"

urlpatterns = [
    path("data-requests/", portal_views.inbox, name="inbox"),
    path("data-requests/<int:part_id>/", portal_views.part_detail, name="request"),
]
