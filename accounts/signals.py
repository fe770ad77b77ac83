"""Signals the accounts app sends, so that apps built on it react without being imported here.

    from accounts.signals import organisation_closed

    @receiver(organisation_closed)
    def stop_campaigns(sender, organisation, closed_by, **kwargs): ...

`organisation_closed` is sent inside the closing transaction, after the
organisation is marked closed: a receiver that fails undoes the closure, and
receivers should enqueue their work with `delay_on_commit`.
"""

from django.dispatch import Signal

# kwargs: organisation, closed_by (the User who closed it)
organisation_closed = Signal()
