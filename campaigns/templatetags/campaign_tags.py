from django import template

from nextsupport.identifiers import display_phone

from .. import selectors
from ..models import Campaign

DASHBOARD_CAMPAIGNS = 5

register = template.Library()


@register.filter
def percent(rate) -> str:
    """0.0123 -> "1.2%": the abandoned-call rate as the page shows it."""
    return f"{float(rate or 0):.1%}"


@register.filter
def duration(seconds) -> str:
    """125 -> "2 min 5 s"."""
    if seconds is None or seconds == "":
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@register.filter
def phone(e164) -> str:
    return display_phone(e164) if e164 else ""


@register.filter
def day_names(days) -> str:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return ", ".join(names[d] for d in sorted(days or []) if 0 <= d <= 6)


@register.simple_tag
def live_campaign_summary(organisation):
    """The dashboard's figures: {% live_campaign_summary organisation as summary %} (campaigns/_dashboard.html)."""
    live = selectors.live_campaigns(organisation)
    campaigns = list(live[:DASHBOARD_CAMPAIGNS])
    figures = selectors.campaign_figures(campaigns)
    running = live.filter(state=Campaign.State.RUNNING).count()
    return {"rows": [(c, figures[c.pk]) for c in campaigns], "running": running, "waiting": live.count() - running}
