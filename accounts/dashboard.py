"""What an organisation's dashboard shows of the other apps' work, without accounts importing them.

Apps depend downward, so the dashboard (an accounts page) cannot ask consumers or
campaigns for their figures. Each app registers, from its AppConfig.ready():

    dashboard.register_section(template="consumers/_dashboard.html", context=consumers_dashboard, order=10)
    dashboard.register_activity({"contact_list.imported": "imported a file into a list", ...})

A section's `context(request)` gets the request (request.organisation and
request.membership are set) and returns what its template needs, or None to
show nothing. The activity labels name the audit-trail events the dashboard's
"Recent activity" lists, in words a client reads; events without one are not listed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from nextsupport.models import AuditEvent

from . import events


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable
    order: int


_SECTIONS: list[Section] = []
ACTIVITY_LABELS: dict[str, str] = {
    events.MEMBER_INVITED: "invited someone to the team",
    events.MEMBER_JOINED: "joined the team",
    events.MEMBER_ROLE_CHANGED: "changed a member's role",
    events.MEMBER_REMOVED: "removed a member",
    events.API_KEY_CREATED: "created an API key",
    events.API_KEY_REVOKED: "revoked an API key",
    events.ORGANISATION_UPDATED: "updated the organisation's details",
    events.AGREEMENT_ACCEPTED: "accepted an agreement",
    events.ONBOARDING_APPROVED: "approved the organisation",
    events.ONBOARDING_REJECTED: "asked for changes to the organisation's details",
}


def register_section(*, template: str, context: Callable, order: int = 100) -> None:
    if not any(section.template == template for section in _SECTIONS):
        _SECTIONS.append(Section(template, context, order))
        _SECTIONS.sort(key=lambda section: section.order)


def register_activity(labels: dict[str, str]) -> None:
    ACTIVITY_LABELS.update(labels)


def sections_for(request) -> list[tuple[str, dict]]:
    """(template, context) of every registered section that has something to show."""
    shown = []
    for section in _SECTIONS:
        context = section.context(request)
        if context is not None:
            shown.append((section.template, context))
    return shown


def recent_activity(organisation, *, limit: int = 10) -> list[dict]:
    """The organisation's latest events that have a label: when, who (a person, an API key, NextSupport), what."""
    events = (
        AuditEvent.objects.filter(organisation_id=organisation.pk, action__in=list(ACTIVITY_LABELS))
        .select_related("actor")
        .order_by("-sequence")[:limit]
    )
    return [{"when": e.occurred_at, "who": _who(e), "what": ACTIVITY_LABELS[e.action]} for e in events]


def _who(event) -> str:
    if event.actor is not None:
        return event.actor.get_full_name()
    return "An API key" if event.actor_label.startswith("api_key") else "NextSupport"
