"""Portal pages, included under /app/o/<org_id>/ (namespace "campaigns")."""

from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_new, name="new"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:campaign_id>/progress/", views.campaign_progress, name="progress"),
    path("campaigns/<int:campaign_id>/launch/", views.campaign_launch, name="launch"),
    path("campaigns/<int:campaign_id>/pause/", views.campaign_pause, name="pause"),
    path("campaigns/<int:campaign_id>/resume/", views.campaign_resume, name="resume"),
    path("campaigns/<int:campaign_id>/cancel/", views.campaign_cancel, name="cancel"),
    path("campaigns/<int:campaign_id>/automated-decisions/", views.automated_decisions, name="automated-decisions"),
    path("campaigns/<int:campaign_id>/script/", views.script_edit, name="script"),
    path("campaigns/scripts/<int:version_id>/", views.script_version, name="script-version"),
    path("campaigns/<int:campaign_id>/results/", views.results, name="results"),
    path("campaigns/<int:campaign_id>/results.csv", views.results_csv, name="results-csv"),
    # Calls and script versions by their own id (the organisation scopes them): one id per URL keeps
    # the outsider walk (tests/accounts/isolation.py) from trying every pair of ids.
    path("campaigns/calls/<int:call_id>/", views.call_detail, name="call"),
    path("campaigns/calls/<int:call_id>/recording/<str:token>/", views.recording_play, name="recording"),
    path("campaigns/caller-ids/", views.caller_ids, name="caller-ids"),
    path("campaigns/caller-ids/status/", views.caller_id_statuses, name="caller-id-statuses"),
    path("campaigns/caller-ids/<int:caller_id>/remove/", views.caller_id_remove, name="caller-id-remove"),
    path("campaigns/statements/", views.statements, name="statements"),
    path("campaigns/statements/<int:statement_id>.csv", views.statement_csv, name="statement-csv"),
]
