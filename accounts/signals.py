"""Signals the accounts app sends, so that apps built on it react without being imported here.

    from accounts.signals import organisation_closed

    @receiver(organisation_closed)
    def stop_campaigns(sender, organisation, closed_by, **kwargs): ...

`organisation_closed` and `organisation_suspended` are sent inside the
transaction that changes the status, after the organisation is marked: a
receiver that fails undoes the change, and receivers should enqueue their work
with `delay_on_commit`.
"""

from django.dispatch import Signal

# kwargs: organisation, closed_by (the User who closed it)
organisation_closed = Signal()

# kwargs: organisation, suspended_by (the User, or None)
organisation_suspended = Signal()
