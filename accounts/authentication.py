"""How the REST API knows who is calling.

- `APIKeyAuthentication`: `Authorization: Api-Key nsk_xxxxxxxx.<secret>` for
  integrations. request.user is then an `APIKeyPrincipal` (not a person) and
  request.auth the `APIKey`; `accounts.access.OrganisationAPIView` accepts the
  key only under its own organisation's URL.
- `VerifiedSessionAuthentication`: the portal's own calls, with the session
  cookie, only once that session has passed its second factor.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import selectors, services


class APIKeyPrincipal:
    """Stands in for request.user when an integration calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, api_key):
        self.api_key = api_key
        self.organisation_id = api_key.organisation_id
        self.audit_label = f"api_key:{api_key.pk}"

    def __str__(self):
        return f"API key {self.api_key.prefix}"

    def is_verified(self) -> bool:
        # A key is a single strong credential of its own; there is no session to verify.
        return True

    def has_perm(self, perm, obj=None) -> bool:
        return False


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Api-Key <key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The API key contains characters no key has.") from exc
        key = selectors.api_key_by_raw(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        refusal = key.refusal()
        if refusal:
            # The plain Django request: DRF's would try to authenticate again to name the actor.
            services.api_key_refused(
                api_key=key, request=request._request, reason=key.state if key.state != "active" else "organisation_inactive"
            )
            raise exceptions.AuthenticationFailed(refusal)
        services.api_key_used(api_key=key)
        return APIKeyPrincipal(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """Session auth for people who have completed two-factor sign-in in this session."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, auth = result
        if not getattr(user, "is_verified", lambda: False)():
            return None
        return user, auth


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organisation's API key, sent as `Api-Key nsk_xxxxxxxx.<secret>`. "
            "Create keys under Account → API keys; each works only for its own organisation.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The portal's session, after two-factor sign-in (portal use only).",
        }
