"""Audit-trail action names written by the compliance app (P15, P26).

Details carry ids, step names, counts and field names, never personal data.
"""

# --- Breaches and records ---------------------------------------------------------------------
BREACH_RECORDED = "compliance.breach_recorded"
BREACH_UPDATED = "compliance.breach_updated"
BREACH_ASSESSED = "compliance.breach_assessed"
BREACH_ICO_DECIDED = "compliance.breach_ico_decided"
BREACH_CLIENTS_NOTIFIED = "compliance.breach_clients_notified"
BREACH_INDIVIDUALS_INFORMED = "compliance.breach_individuals_informed"
BREACH_ACTION_ADDED = "compliance.breach_action_added"
BREACH_ACTION_DONE = "compliance.breach_action_done"
BREACH_CLOSED = "compliance.breach_closed"
BREACH_ALERT_SENT = "compliance.breach_alert_sent"
BREACH_EXPORTED = "compliance.breach_exported"
PROCESSING_ACTIVITY_SAVED = "compliance.processing_activity_saved"
RECORDS_OF_PROCESSING_EXPORTED = "compliance.records_of_processing_exported"
SUBPROCESSOR_SAVED = "compliance.subprocessor_saved"
SUBPROCESSOR_REMOVED = "compliance.subprocessor_removed"
DISCLOSURE_RECORDED = "compliance.disclosure_recorded"
DISCLOSURE_DECIDED = "compliance.disclosure_decided"
TRAINING_RECORDED = "compliance.training_recorded"
