"""The API of data-subject requests forwarded to a client (P43), under /api/v1/orgs/<org_id>/.

    GET  data-subject-requests/                  the organisation's parts, open first (`state` narrows)
    GET  data-subject-requests/<id>/             one part, with who asked (in full with SEE_PERSONAL_DATA)
    POST data-subject-requests/<id>/answer/      {"answer": "done" | "refused" | "delegate", "note": "..."}

Reads need VIEW; answering needs MANAGE_CONTACTS (a read-write key has it).
Every query starts from request.organisation: another client's part is a 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.access import OrganisationServiceAPIView, caller_can
from accounts.models import Capability
from nextsupport import audit
from nextsupport.identifiers import mask_email, mask_phone

from . import requests, selectors
from .models import RequestPart

TAG = "Data-subject requests"


class PartOutput(serializers.ModelSerializer):
    reference = serializers.CharField(source="request.reference")
    kind = serializers.CharField(source="request.kind")
    verified_at = serializers.DateTimeField(source="request.verified_at")
    requester = serializers.SerializerMethodField()

    class Meta:
        model = RequestPart
        fields = ("id", "reference", "kind", "state", "categories", "item_count", "forwarded_at", "due_on", "verified_at",
                  "answered_at", "answer_note", "receipt", "requester")  # fmt: skip

    def get_requester(self, part) -> dict:
        dsr = part.request
        if self.context.get("personal"):
            return {"phone": dsr.phone, "email": dsr.email, "name": dsr.name, "details": dsr.details}
        return {"phone": dsr.phone and mask_phone(dsr.phone), "email": dsr.email and mask_email(dsr.email)}


class _Api(OrganisationServiceAPIView):
    # Reads need VIEW, answers MANAGE_CONTACTS.

    write_capability = Capability.MANAGE_CONTACTS
    parser_classes = [JSONParser]

    def part(self, part_id) -> RequestPart:
        part = selectors.part_for_organisation(self.request.organisation, part_id)
        if part is None:
            raise NotFound("No such data-subject request.")
        return part

    def output(self, part) -> dict:
        personal = caller_can(self.request, Capability.SEE_PERSONAL_DATA)
        if personal:
            audit.record(audit.PERSONAL_DATA_REVEALED, request=self.request, target=part.request,
                         organisation_id=self.request.organisation.pk, details={"view": "api:data-subject-request"})  # fmt: skip
        return PartOutput(part, context={"personal": personal}).data


class PartsApi(_Api):
    # Declared on the view so the schema describes the paginated envelope the list answers with.
    pagination_class = PageNumberPagination

    class Filters(serializers.Serializer):
        state = serializers.ChoiceField(choices=RequestPart.State.choices, required=False)

    @extend_schema(summary="List data-subject requests forwarded to you", parameters=[Filters],
                   responses=PartOutput(many=True), tags=[TAG])  # fmt: skip
    def get(self, request, org_id):
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        parts = selectors.parts_for_organisation(request.organisation, state=filters.validated_data.get("state", ""))
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(parts, request, view=self)
        return paginator.get_paginated_response(PartOutput(rows, many=True, context={"personal": False}).data)


class PartApi(_Api):
    @extend_schema(summary="Read a data-subject request forwarded to you", responses=PartOutput, tags=[TAG])
    def get(self, request, org_id, part_id):
        return Response(self.output(self.part(part_id)))


class PartAnswerApi(_Api):
    class Input(serializers.Serializer):
        answer = serializers.ChoiceField(choices=[c[0] for c in requests.Answer.CHOICES])
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(summary="Answer a data-subject request forwarded to you", request=Input, responses=PartOutput, tags=[TAG])
    def post(self, request, org_id, part_id):
        data = self.validated(self.Input)
        part = requests.part_answer(part=self.part(part_id), answer=data["answer"], note=data["note"],
                                    actor=request.actor, request=request)  # fmt: skip
        return Response(self.output(part))
