"""API routes, included under /api/v1/orgs/<org_id>/ (namespace "campaigns-api")."""

from django.urls import path

from . import api

app_name = "campaigns-api"

urlpatterns = [
    path("campaigns/", api.CampaignsApi.as_view(), name="campaigns"),
    path("campaigns/<int:campaign_id>/", api.CampaignApi.as_view(), name="campaign"),
    path("campaigns/<int:campaign_id>/launch/", api.CampaignLaunchApi.as_view(), name="campaign-launch"),
    path("campaigns/<int:campaign_id>/pause/", api.CampaignPauseApi.as_view(), name="campaign-pause"),
    path("campaigns/<int:campaign_id>/resume/", api.CampaignResumeApi.as_view(), name="campaign-resume"),
    path("campaigns/<int:campaign_id>/cancel/", api.CampaignCancelApi.as_view(), name="campaign-cancel"),
    path(
        "campaigns/<int:campaign_id>/automated-decisions/",
        api.AutomatedDecisionsApi.as_view(),
        name="campaign-automated-decisions",
    ),
    path("campaigns/<int:campaign_id>/progress/", api.CampaignProgressApi.as_view(), name="campaign-progress"),
    path("campaigns/<int:campaign_id>/scripts/", api.ScriptVersionsApi.as_view(), name="campaign-scripts"),
    path("campaigns/<int:campaign_id>/contacts/", api.CampaignContactsApi.as_view(), name="campaign-contacts"),
    path("campaigns/<int:campaign_id>/calls/", api.CampaignCallsApi.as_view(), name="campaign-calls"),
    path("script-versions/<int:version_id>/", api.ScriptVersionApi.as_view(), name="script-version"),
    path("calls/<int:call_id>/", api.CallApi.as_view(), name="call"),
    path("caller-ids/", api.CallerIdsApi.as_view(), name="caller-ids"),
    path("caller-ids/<int:caller_id>/", api.CallerIdApi.as_view(), name="caller-id"),
    path("webhooks/", api.WebhookEndpointsApi.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>/", api.WebhookEndpointApi.as_view(), name="webhook"),
    path("webhooks/<int:endpoint_id>/rotate-secret/", api.WebhookSecretApi.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<int:endpoint_id>/test/", api.WebhookTestApi.as_view(), name="webhook-test"),
    path("webhooks/<int:endpoint_id>/deliveries/", api.WebhookDeliveriesApi.as_view(), name="webhook-deliveries"),
]
