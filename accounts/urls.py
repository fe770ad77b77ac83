from django.urls import path

from . import api, views

app_name = "accounts"

org = "app/o/<int:org_id>/"
urlpatterns = [
    path("app/", views.home, name="home"),
    path("app/account/", views.account_home, name="account"),
    path("app/organisations/new/", views.organisation_new, name="organisation-new"),
    path("app/invitations/<str:token>/", views.invitation, name="invitation"),
    path("app/security/", views.security, name="security"),
    path("app/security/authenticators/add/", views.authenticator_add, name="authenticator-add"),
    path("app/security/authenticators/<int:device_id>/remove/", views.authenticator_remove, name="authenticator-remove"),
    path("app/security/backup-codes/", views.backup_codes_regenerate, name="backup-codes"),
    path("app/security/sessions/<int:session_id>/end/", views.session_end, name="session-end"),
    path("app/security/sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
    path(org, views.dashboard, name="dashboard"),
    path(org + "account/", views.profile, name="profile"),
    path(org + "account/billing/", views.billing, name="billing"),
    path(org + "account/preferences/", views.preferences, name="preferences"),
    path(org + "account/notifications/", views.notifications, name="notifications"),
    path(org + "account/agreements/", views.agreements, name="agreements"),
    path(org + "account/team/", views.team, name="team"),
    path(org + "account/team/invite/", views.team_invite, name="team-invite"),
    path(org + "account/team/leave/", views.team_leave, name="team-leave"),
    path(org + "account/team/<int:membership_id>/role/", views.member_role, name="member-role"),
    path(org + "account/team/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path(org + "account/team/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation-resend"),
    path(org + "account/team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path(org + "account/api-keys/", views.api_keys, name="api-keys"),
    path(org + "account/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path(org + "account/export/", views.export, name="export"),
    path(org + "account/close/", views.close, name="close"),
    # The second step of signing in: reachable before it is complete.
    path("accounts/2fa/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("accounts/2fa/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("legal/<slug:kind>/", views.legal_document, name="legal-document"),
]

# Mounted under /api/v1/ by nextsupport/urls.py.
api_urlpatterns = [
    path("orgs/<int:org_id>/", api.OrganisationDetailAPI.as_view(), name="organisation"),
    path("orgs/<int:org_id>/members/", api.MemberListAPI.as_view(), name="members"),
]
