"""What the campaigns app does when the accounts app says an organisation stopped (closed or suspended),
and when its own calls end or someone opts out (the client's outbound webhooks)."""

from django.dispatch import receiver

from accounts.signals import organisation_closed, organisation_suspended

from . import client_webhooks, services, signals


@receiver(organisation_suspended)
def pause_campaigns_of_suspended_organisation(sender, organisation, **kwargs):
    services.campaigns_stop_for_organisation(organisation=organisation, closed=False)


@receiver(organisation_closed)
def cancel_campaigns_of_closed_organisation(sender, organisation, **kwargs):
    services.campaigns_stop_for_organisation(organisation=organisation, closed=True)


@receiver(signals.call_ended)
def tell_the_client_a_call_ended(sender, call, **kwargs):
    client_webhooks.deliveries_for_call_ended(call=call)


@receiver(signals.opt_out_recorded)
def tell_the_client_someone_opted_out(sender, call, consumer=None, organisation_id=None, **kwargs):
    client_webhooks.deliveries_for_opt_out(call=call, consumer=consumer, organisation_id=organisation_id)
