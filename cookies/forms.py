"""Validation of a choice posted by consent.js.

Plain functions rather than a Django Form: this runs on every first visit, and a
Form's per-instance field copying costs more than the rest of the request.
Errors come back field by field, like a form's.
"""

import re
import uuid

from .models import OPTIONAL_CATEGORIES

_OPTIONAL = frozenset(OPTIONAL_CATEGORIES)
_BANNER_VERSION = re.compile(r"[0-9a-f]{12}")


def parse_choice(payload) -> tuple[dict, dict[str, str]]:
    """(cleaned choice, errors by field); errors is empty when the choice is valid."""
    if not isinstance(payload, dict):
        return {}, {"__all__": "Send the choice as a JSON object."}
    errors, data = {}, {}

    consent_id = payload.get("consent_id")
    try:
        data["consent_id"] = uuid.UUID(consent_id) if consent_id else None
    except (TypeError, ValueError, AttributeError):
        errors["consent_id"] = "Must be a consent ID (a UUID) or null."

    categories = payload.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        errors["categories"] = "Must be a list of category names."
    elif unknown := set(categories) - _OPTIONAL:
        errors["categories"] = f"Not optional categories: {', '.join(sorted(unknown))}."
    else:
        data["categories"] = categories

    policy_version = payload.get("policy_version")
    if type(policy_version) is not int or policy_version < 0:
        errors["policy_version"] = "Must be the cookie policy version number shown."
    else:
        data["policy_version"] = policy_version

    banner_version = payload.get("banner_version")
    if not isinstance(banner_version, str) or not _BANNER_VERSION.fullmatch(banner_version):
        errors["banner_version"] = "Must be the banner version shown (12 hexadecimal characters)."
    else:
        data["banner_version"] = banner_version

    gpc = payload.get("gpc", False)
    if not isinstance(gpc, bool):
        errors["gpc"] = "Must be true or false."
    else:
        data["gpc"] = gpc
    return data, errors
