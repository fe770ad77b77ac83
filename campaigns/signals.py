"""Signals the campaigns app sends, so that what reacts to calls (outbound webhooks to the
client, statements) does not have to be called from the call lifecycle itself.

    @receiver(call_ended)
    def tell_the_client(sender, call, **kwargs): ...

Both are sent inside the transaction that records the change; receivers enqueue
their work with `delay_on_commit`.
"""

from django.dispatch import Signal

# kwargs: call (campaigns.models.Call, final)
call_ended = Signal()
# kwargs: call, consumer (the person who said stop during the call or after it), organisation_id;
# call is None when they said it by calling the caller ID back.
opt_out_recorded = Signal()
