"""Who may reach what: the one place portal pages and API views check access.

Client URLs carry the organisation (`/app/o/<org_id>/...`, `/api/v1/orgs/<org_id>/...`).
A user who is not an active member of it gets 404, exactly as if it did not exist;
a member whose role lacks the capability gets 403. Views never query another
organisation's rows because they only ever start from `request.organisation`
(or `accounts.selectors.for_member`).
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import APIView

from .models import Capability, Membership
from .selectors import membership_for


def member_or_404(user, organisation_id) -> Membership:
    membership = membership_for(user, organisation_id)
    if membership is None:
        raise Http404("No such organisation.")
    return membership


def organisation_view(capability: str = Capability.VIEW):
    """Decorate a function view taking `org_id`: sets request.membership and request.organisation."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, org_id, *args, **kwargs):
            membership = member_or_404(request.user, org_id)
            if not membership.can(capability):
                raise PermissionDenied(f"Your role ({membership.get_role_display()}) does not allow this.")
            request.membership, request.organisation = membership, membership.organisation
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability
        return wrapper

    return decorate


class OrganisationAPIView(APIView):
    """Base for API views under /api/v1/orgs/<org_id>/: resolves and checks the organisation."""

    capability: str = Capability.VIEW

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        membership = membership_for(request.user, kwargs.get("org_id"))
        if membership is None:
            raise exceptions.NotFound("No such organisation.")
        if not membership.can(self.capability):
            raise exceptions.PermissionDenied(f"Your role ({membership.get_role_display()}) does not allow this.")
        request.membership, request.organisation = membership, membership.organisation
