"""A URLconf with two deliberately broken views, to prove the outsider walk catches leaks."""

from django.http import HttpResponse
from django.urls import include, path

from accounts.models import Membership, Organisation


def forgets_the_membership_check(request, org_id):
    return HttpResponse(Organisation.objects.get(pk=org_id).legal_name)


def trusts_the_object_id(request, org_id, membership_id):
    Membership.objects.filter(pk=membership_id).update(role="viewer")
    return HttpResponse("Done")


urlpatterns = [
    path("app/o/<int:org_id>/leaky/", forgets_the_membership_check),
    path("app/o/<int:org_id>/members/<int:membership_id>/demote/", trusts_the_object_id),
    path("", include("nextsupport.urls")),
]
