"""Portal pages, included under /app/o/<org_id>/ (namespace "consumers")."""

from django.urls import path

from . import views

app_name = "consumers"

urlpatterns = [
    path("lists/", views.contact_lists, name="lists"),
    path("lists/new/", views.list_new, name="list-new"),
    path("lists/<int:list_id>/", views.list_detail, name="list"),
    path("lists/<int:list_id>/upload/", views.list_upload, name="list-upload"),
    path("lists/<int:list_id>/attest/", views.list_attest, name="list-attest"),
    path("lists/<int:list_id>/screen/", views.list_screen, name="list-screen"),
    path("lists/<int:list_id>/delete/", views.list_delete, name="list-delete"),
    path("lists/<int:list_id>/export.csv", views.list_export, name="list-export"),
    path("imports/<int:job_id>/", views.import_detail, name="import"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:job_id>/problems.csv", views.import_problems_csv, name="import-problems"),
    path("imports/<int:job_id>/rejected-rows.csv", views.import_rejected_rows_csv, name="import-rejected-rows"),
    path("imports/<int:job_id>/discard/", views.import_discard, name="import-discard"),
    path("consumers/", views.consumer_search, name="search"),
    path("consumers/<int:consumer_id>/", views.consumer_detail, name="consumer"),
    path("consumers/<int:consumer_id>/details/", views.consumer_correct, name="consumer-correct"),
    path("consumers/<int:consumer_id>/restriction/", views.consumer_restriction, name="consumer-restriction"),
    path("consumers/<int:consumer_id>/objection/", views.consumer_objection, name="consumer-objection"),
    path("consumers/<int:consumer_id>/consent/", views.consumer_consent, name="consumer-consent"),
    path("consumers/<int:consumer_id>/consent/withdraw/", views.consumer_withdraw, name="consumer-withdraw"),
    path("consumers/<int:consumer_id>/under-16/", views.consumer_under_16, name="consumer-under-16"),
    path("do-not-call/", views.suppressions, name="suppressions"),
]

# The public page, included at the site root (no namespace: the footer links to "stop-calls").
public_urlpatterns = [
    path("stop-calls/", views.stop_calls, name="stop-calls"),
]
