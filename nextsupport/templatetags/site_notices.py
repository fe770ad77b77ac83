from django import template

from ..selectors import policy_notices
from ..views import policy_url

register = template.Library()


@register.inclusion_tag("includes/policy_notices.html")
def significant_policy_changes():
    """The notice of significant policy changes shown on every page (P53)."""
    return {"notices": [{**notice, "url": policy_url(notice["kind"])} for notice in policy_notices()]}
