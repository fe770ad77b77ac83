"""The organisation the navigation is about, on every page (portal, security, error pages alike)."""

from .selectors import memberships_of

CURRENT_ORGANISATION_SESSION_KEY = "accounts_current_organisation"


def navigation(request) -> dict:
    """`nav_organisation`: the page's organisation, else the one the person last worked in, else their first.

    None for visitors and for a sign-in not yet past its second factor: they get the public navigation.
    """
    organisation = getattr(request, "organisation", None)
    if organisation is not None:
        return {"nav_organisation": organisation}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_verified", lambda: False)():
        return {"nav_organisation": None}

    def lazy():
        memberships = list(memberships_of(user))
        remembered = request.session.get(CURRENT_ORGANISATION_SESSION_KEY)
        chosen = next((m for m in memberships if m.organisation_id == remembered), memberships[0] if memberships else None)
        return chosen.organisation if chosen else None

    return {"nav_organisation": _Lazy(lazy)}


class _Lazy:
    """Looked up only if a template asks (the public pages' cache-friendly paths never do)."""

    def __init__(self, load):
        self._load, self._value, self._loaded = load, None, False

    def _get(self):
        if not self._loaded:
            self._value, self._loaded = self._load(), True
        return self._value

    def __bool__(self):
        return self._get() is not None

    def __getattr__(self, name):
        return getattr(self._get(), name)
