"""Response headers every page gets: the Content-Security-Policy (through Django's own
ContentSecurityPolicyMiddleware), a Permissions-Policy, and no-store on personal data.

The policies are built here and named in the settings (SECURE_CSP), so what a page may
load is written down once. Pages carry no inline script or style: scripts are static
files, and a script that must be inline takes the request's nonce ({% csp_nonce_attr %}).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP

# Google's documented endpoints for GA4 (loaded only after consent, P08).
_ANALYTICS_HOSTS = ("https://*.google-analytics.com", "https://*.analytics.google.com", "https://*.googletagmanager.com")


def content_security_policy(*, analytics_script_url: str = "", https_only: bool = False) -> dict:
    """The policy of every page: our own origin only, no inline code, nothing may frame us.

    With analytics configured, the tag's origin may serve scripts and Google's
    collection endpoints may be reached; nothing else from outside ever is.
    """
    scripts, connections, images = [CSP.SELF, CSP.NONCE], [CSP.SELF], [CSP.SELF]
    if analytics_script_url:
        parts = urlsplit(analytics_script_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        hosts = _ANALYTICS_HOSTS if parts.netloc.endswith("googletagmanager.com") else ()
        scripts += [origin]
        connections += [origin, *hosts]
        images += [origin, *hosts]
    policy = {
        "default-src": [CSP.SELF],
        "script-src": scripts,
        "style-src": [CSP.SELF],
        "img-src": images,
        "connect-src": connections,
        "font-src": [CSP.SELF],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
        "frame-src": [CSP.NONE],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.NONE],
    }
    if https_only:
        policy["upgrade-insecure-requests"] = True
    return policy


# The API's Swagger UI (drf-spectacular's split view: its settings are a script
# file of our own, not inline) styles itself with inline style attributes and
# draws icons as data: images. It alone may; it shows no client data.
API_DOCS_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

# No page uses these browser features; a script injected into one could not either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture", "geolocation",
        "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip

# Where personal data is shown: the portal, the API, the admin and the account pages.
PRIVATE_PREFIXES = ("/app/", "/api/", "/admin/", "/accounts/")


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class PrivateResponseMiddleware:
    """`Cache-Control: no-store` on every response that may carry personal data (P24).

    That is any portal, API, admin or account page; anything answered to a
    signed-in browser (it has a session) or to a form post (a re-shown form holds
    what the visitor typed); and anything that sets a cookie. Public pages read
    by anonymous visitors stay cacheable. Decided from the request line and
    cookies alone, so no request pays for loading a session or a user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", "") and self._private(request, response):
            add_never_cache_headers(response)
        return response

    @staticmethod
    def _private(request, response) -> bool:
        return (
            request.method not in ("GET", "HEAD")
            or request.path_info.startswith(PRIVATE_PREFIXES)
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or bool(response.cookies)
        )
