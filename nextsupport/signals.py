"""Signals the platform sends; higher apps react to them without being imported here."""

from django.dispatch import Signal

# Sent after the transaction that published a policy version has committed.
# Keyword arguments: document (the PolicyDocument just published).
# accounts.receivers e-mails clients when document.significant_change is set (P53).
policy_published = Signal()
