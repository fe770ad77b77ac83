from django import template
from django.conf import settings
from django.urls import reverse

from .. import consent_cookie
from ..models import Category
from ..selectors import banner_context, banner_version
from ..services import CONSENT_MAX_AGE

register = template.Library()


@register.inclusion_tag("cookies/consent.html", takes_context=True)
def cookie_consent(context):
    """The banner, the preferences centre and the category-gated scripts, at the end of every page."""
    request = context.get("request")
    banner = banner_context()
    measurement_id = settings.GOOGLE_ANALYTICS_MEASUREMENT_ID
    config = {
        "endpoint": reverse("cookie-consent"),
        "cookieName": consent_cookie.NAME,
        "policyVersion": banner["policy_version"],
        "bannerVersion": banner_version(),
        "maxAgeDays": CONSENT_MAX_AGE.days,
        "optional": [g["value"] for g in banner["optional"]],
        "cookies": banner["cookie_names"],
        "gpcHeader": bool(request and request.headers.get("Sec-GPC") == "1"),
        "analytics": {"measurementId": measurement_id, "cookieExpires": int(CONSENT_MAX_AGE.total_seconds())}
        if measurement_id
        else None,
    }
    return {
        "config": config,
        "groups": banner["groups"],
        "optional": banner["optional"],
        "policy_version": banner["policy_version"],
        "analytics_script_url": f"{settings.GOOGLE_ANALYTICS_SCRIPT_URL}?id={measurement_id}" if measurement_id else "",
        "analytics_category": Category.ANALYTICS,
    }
