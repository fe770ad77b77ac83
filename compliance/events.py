"""Audit action names of the compliance app (nextsupport.audit.record)."""

# --- Retention (compliance.retention) ---
RETENTION_RUN = "compliance.retention_run"
MINORS_SWEPT = "compliance.retention_minors_swept"
RETENTION_RULE_CHANGED = "compliance.retention_rule_changed"
LEGAL_HOLD_PLACED = "compliance.legal_hold_placed"
LEGAL_HOLD_LIFTED = "compliance.legal_hold_lifted"
