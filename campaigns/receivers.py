"""What the campaigns app does when the accounts app says an organisation stopped (closed or suspended)."""

from django.dispatch import receiver

from accounts.signals import organisation_closed, organisation_suspended

from . import services


@receiver(organisation_suspended)
def pause_campaigns_of_suspended_organisation(sender, organisation, **kwargs):
    services.campaigns_stop_for_organisation(organisation=organisation, closed=False)


@receiver(organisation_closed)
def cancel_campaigns_of_closed_organisation(sender, organisation, **kwargs):
    services.campaigns_stop_for_organisation(organisation=organisation, closed=True)
