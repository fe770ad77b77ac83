"""The campaigns app's part of an organisation's dashboard (see accounts.dashboard)."""

from accounts import dashboard

from . import events

ACTIVITY = {
    events.CAMPAIGN_CREATED: "created a campaign",
    events.CAMPAIGN_LAUNCHED: "launched a campaign",
    events.CAMPAIGN_STARTED: "started a scheduled campaign",
    events.CAMPAIGN_PAUSED: "paused a campaign",
    events.CAMPAIGN_RESUMED: "resumed a campaign",
    events.CAMPAIGN_CANCELLED: "cancelled a campaign",
    events.CAMPAIGN_COMPLETED: "completed a campaign",
    events.SCRIPT_SAVED: "saved a call script",
    events.AUTOMATED_DECISIONS_CHANGED: "changed a campaign's automated decisions",
    events.CALLER_ID_REQUESTED: "asked to verify a caller ID",
    events.CALLER_ID_VERIFIED: "verified a caller ID",
}


def campaigns_summary(request) -> dict:
    return {"organisation": request.organisation}


def register() -> None:
    # First on the dashboard: the campaigns are the service itself.
    dashboard.register_section(template="campaigns/_dashboard.html", context=campaigns_summary, order=5)
    dashboard.register_activity(ACTIVITY)
