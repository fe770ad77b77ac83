"""API routes, included under /api/v1/orgs/<org_id>/ (namespace "consumers-api")."""

from django.urls import path

from . import api

app_name = "consumers-api"

urlpatterns = [
    path("lists/", api.ContactListsApi.as_view(), name="lists"),
    path("lists/<int:list_id>/", api.ContactListApi.as_view(), name="list"),
    path("lists/<int:list_id>/members/", api.ListMembersApi.as_view(), name="list-members"),
    path("lists/<int:list_id>/export.csv", api.ListExportApi.as_view(), name="list-export"),
    path("lists/<int:list_id>/attestation/", api.AttestationApi.as_view(), name="list-attestation"),
    path("lists/<int:list_id>/screening/", api.ScreeningApi.as_view(), name="list-screening"),
    path("lists/<int:list_id>/imports/", api.ImportsApi.as_view(), name="list-imports"),
    path("imports/<int:job_id>/", api.ImportApi.as_view(), name="import"),
    path("imports/<int:job_id>/start/", api.ImportStartApi.as_view(), name="import-start"),
    path("imports/<int:job_id>/problems.csv", api.ImportProblemsApi.as_view(), name="import-problems"),
    path("imports/<int:job_id>/rejected-rows.csv", api.RejectedRowsApi.as_view(), name="import-rejected-rows"),
    path("consumers/search/", api.ConsumerSearchApi.as_view(), name="consumer-search"),
    path("consumers/<int:consumer_id>/", api.ConsumerApi.as_view(), name="consumer"),
    path("consumers/<int:consumer_id>/restriction/", api.RestrictionApi.as_view(), name="consumer-restriction"),
    path("consumers/<int:consumer_id>/objection/", api.ObjectionApi.as_view(), name="consumer-objection"),
    path("consumers/<int:consumer_id>/consents/", api.ConsentsApi.as_view(), name="consumer-consents"),
    path("consumers/<int:consumer_id>/withdrawals/", api.WithdrawalsApi.as_view(), name="consumer-withdrawals"),
    path("consumers/<int:consumer_id>/under-16/", api.UnderSixteenApi.as_view(), name="consumer-under-16"),
    path("do-not-call/", api.SuppressionsApi.as_view(), name="suppressions"),
    path("do-not-call/check/", api.SuppressionCheckApi.as_view(), name="suppression-check"),
]
