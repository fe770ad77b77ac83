"""Reads of accounts data, and the one place client queries are scoped.

Every query a client can trigger goes through `for_member`: it keeps only the
rows of organisations the user is an active member of. An object outside that
scope simply does not exist for the user (views answer 404, never 403).
"""

from django.db.models import QuerySet

from .models import Membership, Organisation


def organisations_for(user) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user, status=Organisation.Status.ACTIVE)


def membership_for(user, organisation_id) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation_id=organisation_id, organisation__status=Organisation.Status.ACTIVE)
        .first()
    )


def for_member(queryset: QuerySet, user, *, via: str = "organisation") -> QuerySet:
    """`queryset` restricted to rows whose organisation (at path `via`) the user belongs to."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{f"{via}__in": organisations_for(user)})
