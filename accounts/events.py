"""Audit-trail action names written by the accounts app (P15, P26).

Details recorded with them carry counts, roles, reason codes and ids, never an
e-mail address, a name or free text (a reason someone typed stays on the row the
event points at, e.g. OrganisationStatusChange or OnboardingReview).
"""

SIGNED_UP = "auth.signed_up"
SIGNED_IN = "auth.signed_in"
SIGNED_OUT = "auth.signed_out"
SIGN_IN_FAILED = "auth.sign_in_failed"
# Too many failures: attempts for an address are paused from one network, or from all (accounts.sign_in_limits).
SIGN_IN_PAUSED = "auth.sign_in_paused"
SIGN_IN_THROTTLED = "auth.sign_in_throttled"
ACCOUNT_UNLOCKED = "auth.account_unlocked"
SECOND_FACTOR_FAILED = "auth.second_factor_failed"
SESSION_ENDED = "auth.session_ended"
AUTHENTICATOR_ADDED = "auth.authenticator_added"
AUTHENTICATOR_REMOVED = "auth.authenticator_removed"
SECOND_FACTOR_RESET_BY_STAFF = "auth.second_factor_reset_by_staff"
BACKUP_CODES_REPLACED = "auth.backup_codes_replaced"
PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 (an event name, not a password)
PASSWORD_RESET = "auth.password_reset"  # noqa: S105 (an event name, not a password)
EMAIL_CHANGED = "auth.email_changed"
EMAIL_VERIFIED = "auth.email_verified"

ORGANISATION_CREATED = "organisation.created"
ORGANISATION_UPDATED = "organisation.updated"
ORGANISATION_UPDATED_BY_STAFF = "organisation.updated_by_staff"
ORGANISATION_CLOSED = "organisation.closed"
ORGANISATION_SUSPENDED = "organisation.suspended"
ORGANISATION_REOPENED = "organisation.reopened"
AGREEMENT_ACCEPTED = "agreement.accepted"
ONBOARDING_APPROVED = "onboarding.approved"
ONBOARDING_REJECTED = "onboarding.rejected"

MEMBER_INVITED = "member.invited"
INVITATION_REVOKED = "member.invitation_revoked"
MEMBER_JOINED = "member.joined"
MEMBER_ROLE_CHANGED = "member.role_changed"
MEMBER_REMOVED = "member.removed"
NOTIFICATIONS_UPDATED = "member.notifications_updated"

API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
API_KEY_REFUSED = "api_key.refused"
