"""API routes, included under /api/v1/orgs/<org_id>/ (namespace "compliance-api")."""

from django.urls import path

from . import api

app_name = "compliance-api"

urlpatterns = [
    path("data-subject-requests/", api.PartsApi.as_view(), name="requests"),
    path("data-subject-requests/<int:part_id>/", api.PartApi.as_view(), name="request"),
    path("data-subject-requests/<int:part_id>/answer/", api.PartAnswerApi.as_view(), name="request-answer"),
]
