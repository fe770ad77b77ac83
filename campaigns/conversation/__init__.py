"""The conversation engine: guardrails first on every turn, then the script, with pluggable reply generators."""
