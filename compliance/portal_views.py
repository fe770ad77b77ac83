"""The client's inbox of data-subject requests forwarded to it as controller (P43), under /app/o/<org_id>/.

Every read starts from request.organisation (accounts.access): a client never
sees another client's parts, and another organisation's id is a 404.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from accounts.access import caller_can, organisation_view
from accounts.models import Capability
from nextsupport import audit
from nextsupport.identifiers import mask_email, mask_phone

from . import requests, selectors
from .forms import PartAnswerForm


@organisation_view(capability=Capability.VIEW)
def inbox(request):
    parts = selectors.parts_for_organisation(request.organisation)
    return render(request, "compliance/portal/inbox.html", {"parts": parts, "section": "requests"})


def identifiers_for(request, dsr) -> dict:
    """Who the person is, in full only for those who may see personal data."""
    if caller_can(request, Capability.SEE_PERSONAL_DATA):
        audit.record(audit.PERSONAL_DATA_REVEALED, request=request, target=dsr, organisation_id=request.organisation.pk,
                     details={"view": "portal:data-request"})  # fmt: skip
        return {"phone": dsr.phone, "email": dsr.email, "name": dsr.name, "details": dsr.details}
    return {"phone": dsr.phone and mask_phone(dsr.phone), "email": dsr.email and mask_email(dsr.email), "masked": True}


@organisation_view(capability=Capability.VIEW)
def part_detail(request, part_id: int):
    part = selectors.part_for_organisation(request.organisation, part_id)
    if part is None:
        raise Http404("No such request.")
    form = PartAnswerForm(request.POST or None)
    if request.method == "POST":
        if not caller_can(request, Capability.MANAGE_CONTACTS):
            raise PermissionDenied("Your role does not allow answering requests.")
        if form.is_valid():
            try:
                requests.part_answer(
                    part=part,
                    answer=form.cleaned_data["answer"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                    request=request,
                )
                return redirect("compliance-portal:request", org_id=request.organisation.pk, part_id=part.pk)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
    context = {
        "part": part,
        "dsr": part.request,
        "who": identifiers_for(request, part.request),
        "form": form,
        "can_answer": caller_can(request, Capability.MANAGE_CONTACTS),
        "section": "requests",
    }
    return render(request, "compliance/portal/part.html", context, status=400 if form.errors else 200)
