"""Audit action names of the compliance app (nextsupport.audit.record), one place for all of them (P15, P26).

Details carry ids, step names, counts and field names, never personal data.
"""

# --- Retention (compliance.retention) ---
RETENTION_RUN = "compliance.retention_run"
MINORS_SWEPT = "compliance.retention_minors_swept"
RETENTION_RULE_CHANGED = "compliance.retention_rule_changed"
LEGAL_HOLD_PLACED = "compliance.legal_hold_placed"
LEGAL_HOLD_LIFTED = "compliance.legal_hold_lifted"

# --- Data-subject requests (compliance.requests) ---
REQUEST_RECEIVED = "compliance.request_received"
REQUEST_VERIFICATION_SENT = "compliance.request_verification_sent"
REQUEST_VERIFICATION_FAILED = "compliance.request_verification_failed"
REQUEST_VERIFIED = "compliance.request_verified"
REQUEST_PROCESSED = "compliance.request_processed"
REQUEST_PAUSED = "compliance.request_paused"
REQUEST_RESUMED = "compliance.request_resumed"
REQUEST_EXTENDED = "compliance.request_extended"
REQUEST_ASSIGNED = "compliance.request_assigned"
REQUEST_NOTE_ADDED = "compliance.request_note_added"
REQUEST_FORWARDED = "compliance.request_forwarded"
REQUEST_PART_ANSWERED = "compliance.request_part_answered"
REQUEST_COMPLETED = "compliance.request_completed"
REQUEST_REFUSED = "compliance.request_refused"
REQUEST_PACKAGE_DOWNLOADED = "compliance.request_package_downloaded"
REQUEST_OPENED = "compliance.request_opened"
REQUEST_COPIES_EXPIRED = "compliance.request_copies_expired"

# --- Erasure, restriction, objection, rectification (compliance.erasure) ---
SUBJECT_ERASED = "compliance.subject_erased"
SUBJECT_RESTRICTED = "compliance.subject_restricted"
SUBJECT_OBJECTED = "compliance.subject_objected"
ITEM_RECTIFIED = "compliance.item_rectified"
ERASURES_REPLAYED = "compliance.erasures_replayed"
FILE_DELETION_PENDING = "compliance.file_deletion_pending"

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
