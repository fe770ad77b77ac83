"""Audit-trail action names written by the campaigns app (P13, P15, P16, P26).

Launches, pauses, edits, state changes and recording playbacks are events;
single dials are not (the call records themselves say what happened, and
`audit.record` serialises on one lock). Details carry ids, counts and codes,
never a number, a name or what anyone said.
"""

CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_UPDATED = "campaign.updated"
CAMPAIGN_LAUNCHED = "campaign.launched"
CAMPAIGN_STARTED = "campaign.started"  # a scheduled campaign reached its start date
CAMPAIGN_PAUSED = "campaign.paused"
CAMPAIGN_RESUMED = "campaign.resumed"
CAMPAIGN_CANCELLED = "campaign.cancelled"
CAMPAIGN_COMPLETED = "campaign.completed"
CAMPAIGN_SLOWED = "campaign.slowed"  # the abandoned-call rate called for fewer calls at once
AUTOMATED_DECISIONS_CHANGED = "campaign.automated_decisions_changed"  # P16
SCRIPT_SAVED = "campaign.script_saved"

CALLER_ID_REQUESTED = "caller_id.requested"
CALLER_ID_VERIFIED = "caller_id.verified"
CALLER_ID_FAILED = "caller_id.failed"
CALLER_ID_REMOVED = "caller_id.removed"

CALLING_LIMIT_SET = "calling_limit.set"
CALLS_EXPORTED = "calls.exported"
WEBHOOK_REFUSED = "telephony.webhook_refused"
CALLBACK_OPT_OUT = "telephony.callback_opt_out"

WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
WEBHOOK_SECRET_ROTATED = "webhook_endpoint.secret_rotated"  # noqa: S105  (an action name, not a secret)
CALL_REVIEWED = "call.reviewed"  # P13: staff read a call's transcript (or heard it) in the admin, with a reason
