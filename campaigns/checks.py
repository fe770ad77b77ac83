"""Deployment checks for telephony (`manage.py check --deploy`): real calls need a real provider
that can reach us over HTTPS."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def telephony_is_ready_for_real_calls(app_configs, **kwargs):
    from . import telephony

    problems = []
    name = telephony.configured_name()
    if name == telephony.SIMULATOR and not settings.DEBUG:
        problems.append(
            Warning(
                "The telephony simulator places this deployment's calls: nobody real is called.",
                hint="Set TELEPHONY_PROVIDER=twilio with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
                id="campaigns.W001",
            )
        )
    if name == telephony.TWILIO and not telephony.twilio_configured():
        problems.append(
            Error(
                "TELEPHONY_PROVIDER is twilio but TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is missing.",
                id="campaigns.E001",
            )
        )
    if not settings.TELEPHONY_WEBHOOK_BASE_URL.startswith("https://"):
        problems.append(
            Warning(
                f"TELEPHONY_WEBHOOK_BASE_URL ({settings.TELEPHONY_WEBHOOK_BASE_URL}) is not HTTPS: "
                "call transcripts would cross the internet in clear text.",
                id="campaigns.W002",
            )
        )
    return problems
