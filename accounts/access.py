"""Who may reach what: the one place portal pages and API views check access.

Client URLs carry the organisation (`/app/o/<org_id>/...`, `/api/v1/orgs/<org_id>/...`).
A user who is not an active member of it gets 404, exactly as if it did not exist;
a member whose role lacks the capability gets 403. Views never query another
organisation's rows because they only ever start from `request.organisation`
(or `accounts.selectors.for_member`).

The API also accepts an organisation's API key, and only under that
organisation's own URL (any other organisation's URL is a 404). A key carries
the capabilities of its scope (`accounts.models.API_KEY_CAPABILITIES`); then
request.user is an `APIKeyPrincipal` (not a person), request.membership is
None and request.api_key is the key. Use `request.actor` for "who did this"
(a User, or None for a key; the audit trail names the key by itself).

Second factor: the middleware (accounts.middleware.SecondFactorMiddleware) keeps
every page under /app/ and every API call behind a verified session before a
view runs; these checks come on top.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .context_processors import CURRENT_ORGANISATION_SESSION_KEY
from .models import APIKey, Capability, Membership, Organisation
from .selectors import membership_for, outstanding_agreements


def member_or_404(user, organisation_id) -> Membership:
    membership = membership_for(user, organisation_id)
    if membership is None:
        raise Http404("No such organisation.")
    return membership


PORTAL_METHODS = ("GET", "HEAD", "POST")


def organisation_view(capability: str = Capability.VIEW, *, before_agreements: bool = False):
    """Decorate a function view taking `org_id`: sets request.membership and request.organisation.

    Until the organisation has accepted the current Terms and DPA, its pages
    lead to the agreements page; `before_agreements=True` marks the account
    pages that must stay reachable meanwhile (the agreements page itself,
    team, export, closing the account).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, org_id, *args, **kwargs):
            # Portal pages are forms: a PUT or DELETE would otherwise be served as if it were a GET.
            if request.method not in PORTAL_METHODS:
                return HttpResponseNotAllowed(PORTAL_METHODS)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = member_or_404(request.user, org_id)
            if not membership.can(capability):
                raise PermissionDenied(f"Your role ({membership.get_role_display()}) does not allow this.")
            request.membership, request.organisation = membership, membership.organisation
            request.actor = request.user
            if request.session.get(CURRENT_ORGANISATION_SESSION_KEY) != membership.organisation_id:
                # The navigation of pages outside an organisation (security, errors) leads back here.
                request.session[CURRENT_ORGANISATION_SESSION_KEY] = membership.organisation_id
            if not before_agreements and outstanding_agreements(membership.organisation):
                return redirect("accounts:agreements", org_id=membership.organisation_id)
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability
        return wrapper

    return decorate


class OrganisationAPIView(APIView):
    """Base for API views under /api/v1/orgs/<org_id>/: resolves and checks the organisation."""

    capability: str = Capability.VIEW

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, APIKey):
            self._enter_with_key(request, request.auth, kwargs.get("org_id"))
            return
        membership = membership_for(request.user, kwargs.get("org_id"))
        if membership is None:
            raise exceptions.NotFound("No such organisation.")
        if not membership.can(self.capability):
            raise exceptions.PermissionDenied(f"Your role ({membership.get_role_display()}) does not allow this.")
        request.membership, request.organisation = membership, membership.organisation
        request.api_key, request.actor = None, request.user

    def _enter_with_key(self, request, key: APIKey, org_id) -> None:
        if str(key.organisation_id) != str(org_id) or key.organisation.status != Organisation.Status.ACTIVE:
            raise exceptions.NotFound("No such organisation.")
        if self.capability not in key.capabilities:
            raise exceptions.PermissionDenied(f"This API key's scope ({key.get_scope_display()}) does not allow this.")
        request.membership, request.organisation = None, key.organisation
        request.api_key, request.actor = key, None


def caller_can(request, capability: str) -> bool:
    """Whether whoever is calling (a member, or the organisation's API key) has `capability`."""
    key = getattr(request, "api_key", None)
    if key is not None:
        return capability in key.capabilities
    membership = getattr(request, "membership", None)
    return membership is not None and membership.can(capability)


def drf_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError in DRF's shape: {"field": ["why"]}."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


class OrganisationServiceAPIView(OrganisationAPIView):
    """Base for API views that call services: reads need VIEW, writes `write_capability`.

    A service's ValidationError becomes a 400 in DRF's shape here, once, rather
    than in a try/except around every service call. Every app's API builds on
    this (consumers, campaigns), so the capability split is the same everywhere.
    """

    write_capability: str = Capability.VIEW

    @property
    def capability(self):
        return Capability.VIEW if self.request.method in SAFE_METHODS else self.write_capability

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = drf_validation_error(exc)
        return super().handle_exception(exc)

    def validated(self, serializer_class) -> dict:
        """The request body checked by `serializer_class`; a 400 naming each bad field otherwise."""
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
