"""The accounts part of the REST API: what an organisation is and who is in it.

One view per operation, each with its own output serializer; access is checked
by accounts.access.OrganisationAPIView (members or the organisation's own API key).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from nextsupport.schema import paginated

from . import selectors
from .access import OrganisationAPIView
from .models import Capability


class OrganisationDetailAPI(OrganisationAPIView):
    capability = Capability.VIEW

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        legal_name = serializers.CharField()
        trading_name = serializers.CharField()
        company_number = serializers.CharField()
        status = serializers.CharField()
        onboarding_status = serializers.CharField()
        may_launch_calls = serializers.BooleanField(help_text="False until compliance approves and the agreements are current.")
        launch_blockers = serializers.ListField(child=serializers.CharField(), help_text="Why calls cannot start yet.")

    @extend_schema(summary="The organisation", responses=OutputSerializer, tags=["Organisation"])
    def get(self, request, org_id):
        organisation = request.organisation
        blockers = selectors.launch_blockers(organisation)
        data = {
            "id": organisation.pk,
            "legal_name": organisation.legal_name,
            "trading_name": organisation.trading_name,
            "company_number": organisation.company_number,
            "status": organisation.status,
            "onboarding_status": organisation.onboarding_status,
            "may_launch_calls": not blockers,
            "launch_blockers": blockers,
        }
        return Response(self.OutputSerializer(data).data)


class MemberListAPI(OrganisationAPIView):
    capability = Capability.VIEW

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField(source="user.full_name", allow_null=True)
        email = serializers.EmailField(source="user.email")
        role = serializers.CharField()
        joined_at = serializers.DateTimeField(source="created_at")

    @extend_schema(
        summary="The organisation's team", responses=paginated(OutputSerializer, "MemberListPage"), tags=["Organisation"]
    )
    def get(self, request, org_id):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.team_of(request.organisation), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
