"""REST API for contact lists, imports, consumers, consent and the do-not-call list.

Under /api/v1/orgs/<org_id>/: reads need the "view" capability, writes
"manage_contacts", the error-report download "export_data". Errors come in
DRF's shape, naming the field and saying why. Phone numbers and e-mails are
sent in request bodies (POST), never in URLs, so they stay out of logs.

Callers are people (signed in) or an organisation's API key: services get
`request.actor` (the User, or None for a key) and the request, from which the
audit trail names the key.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.access import OrganisationServiceAPIView
from accounts.models import Capability
from nextsupport import audit

from . import selectors, services
from .csvfiles import ImportFileError
from .models import ConsentRecord, Consumer, ContactList, ImportJob, LawfulBasisAttestation, SuppressionReason, SuppressionSource
from .rows import suggest_mapping
from .views import consumer_of, import_job_of, import_problems_response, list_of, progress_figures, upload_too_large


class _Api(OrganisationServiceAPIView):
    """Reads need VIEW, writes MANAGE_CONTACTS (set `write_capability` to change that)."""

    write_capability = Capability.MANAGE_CONTACTS


class PhoneInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32)

    def validate_phone(self, value):
        from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone

        try:
            return normalise_phone(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(
                f"{exc.messages[0]} Give a full number, such as 07911 123456 or +44 20 7946 0123."
            ) from exc


# --- Contact lists ------------------------------------------------------------------


class ContactListOutput(serializers.ModelSerializer):
    consumers = serializers.SerializerMethodField()
    attestation = serializers.SerializerMethodField()
    screening_current = serializers.SerializerMethodField()
    unusable_reasons = serializers.SerializerMethodField()

    class Meta:
        model = ContactList
        fields = [
            "id",
            "name",
            "purpose",
            "created_at",
            "consumers",
            "attestation",
            "screened_at",
            "screened_register_date",
            "screening_current",
            "released_at",
            "unusable_reasons",
        ]

    def get_consumers(self, obj) -> int:
        count = getattr(obj, "consumer_count", None)  # annotated by selectors.with_usability
        return obj.memberships.count() if count is None else count

    def get_attestation(self, obj) -> dict | None:
        attestation = selectors.current_attestation(obj)
        if attestation is None:
            return None
        return {
            "basis": attestation.basis,
            "wording": attestation.wording,
            "attested_by": attestation.attested_by_id,
            "attested_at": attestation.attested_at,
        }

    def get_screening_current(self, obj) -> bool:
        return selectors.screening_is_current(obj)

    def get_unusable_reasons(self, obj) -> list[str]:
        return selectors.list_unusable_reasons(obj)


class ContactListsApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ContactListsInput"

        name = serializers.CharField(max_length=120)
        purpose = serializers.ChoiceField(choices=ContactList.Purpose.choices)

    @extend_schema(responses=ContactListOutput(many=True))
    def get(self, request, org_id):
        lists = selectors.with_usability(ContactList.objects.filter(organisation=request.organisation)).order_by("-created_at")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(lists, request, view=self)
        return paginator.get_paginated_response(ContactListOutput(page, many=True).data)

    @extend_schema(request=Input, responses={201: ContactListOutput})
    def post(self, request, org_id):
        data = self.validated(self.Input)
        contact_list = services.contact_list_create(organisation=request.organisation, created_by=request.actor, **data)
        return Response(ContactListOutput(contact_list).data, status=status.HTTP_201_CREATED)


class ContactListApi(_Api):
    @extend_schema(responses=ContactListOutput)
    def get(self, request, org_id, list_id):
        return Response(ContactListOutput(list_of(request, list_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, org_id, list_id):
        services.contact_list_delete(contact_list=list_of(request, list_id), by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttestationApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "AttestationInput"

        basis = serializers.ChoiceField(choices=LawfulBasisAttestation.Basis.choices)
        wording = serializers.CharField()

    @extend_schema(request=Input, responses={201: ContactListOutput})
    def post(self, request, org_id, list_id):
        """P19: attest the lawful basis for a list. Only a signed-in person can: the record names who vouched for it."""
        contact_list = list_of(request, list_id)
        if request.actor is None:
            raise PermissionDenied(
                "A lawful basis must be attested by a signed-in person (P19), not with an API key. "
                "Attest it in the portal or with a signed-in session."
            )
        data = self.validated(self.Input)
        services.contact_list_attest(contact_list=contact_list, by=request.actor, request=request, **data)
        return Response(ContactListOutput(contact_list).data, status=status.HTTP_201_CREATED)


class ScreeningApi(_Api):
    @extend_schema(request=None, responses=ContactListOutput)
    def post(self, request, org_id, list_id):
        contact_list = list_of(request, list_id)
        removed = services.contact_list_screen(contact_list=contact_list, by=request.actor, request=request)
        return Response({"removed": removed, "list": ContactListOutput(contact_list).data})


# --- Imports ------------------------------------------------------------------------


class ImportOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "contact_list",
            "status",
            "original_filename",
            "size_bytes",
            "encoding",
            "delimiter",
            "columns",
            "mapping",
            "dropped_columns",
            "uploaded_at",
            "started_at",
            "finished_at",
            "progress",
        ]

    def get_progress(self, obj) -> dict:
        return progress_figures(obj)


class ImportsApi(_Api):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        responses={201: ImportOutput},
    )
    def post(self, request, org_id, list_id):
        """Upload a CSV file into a list. The answer shows the columns, a suggested mapping and the first rows."""
        contact_list = list_of(request, list_id)
        if problem := upload_too_large(request):
            raise ValidationError({"file": [problem]})
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Send the CSV file in the multipart field “file”."]})
        try:
            job = services.import_job_create(contact_list=contact_list, upload=upload, uploaded_by=request.actor, request=request)
        except ImportFileError as exc:
            raise ValidationError({"file": exc.messages}) from exc
        data = ImportOutput(job).data
        data["suggested_mapping"] = suggest_mapping(job.columns)
        data["preview"] = services.import_job_preview(job)
        return Response(data, status=status.HTTP_201_CREATED)


class ImportApi(_Api):
    @extend_schema(responses=ImportOutput)
    def get(self, request, org_id, job_id):
        """An import with its progress: rows read, accepted, rejected, suppressed, duplicates."""
        return Response(ImportOutput(import_job_of(request, job_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, org_id, job_id):
        """Discard an upload that has not been started."""
        services.import_job_discard(job=import_job_of(request, job_id), by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportStartApi(_Api):
    parser_classes = [JSONParser]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ImportStartInput"

        mapping = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text='{"<column index>": "<field>"}')
        consent_purposes = serializers.ListField(
            child=serializers.ChoiceField(choices=ConsentRecord.Purpose.choices), required=False
        )
        consent_wording = serializers.CharField(required=False, allow_blank=True, default="")
        consent_wording_version = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)

    @extend_schema(request=Input, responses={202: ImportOutput})
    def post(self, request, org_id, job_id):
        job = import_job_of(request, job_id)
        data = self.validated(self.Input)
        job = services.import_job_start(job=job, by=request.actor, request=request, **data)
        return Response(ImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ImportProblemsApi(_Api):
    @property
    def capability(self):
        return Capability.EXPORT_DATA

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, org_id, job_id):
        """The error report as CSV: row, column, value (only where it helps), problem."""
        return import_problems_response(request, import_job_of(request, job_id))


# --- Consumers ----------------------------------------------------------------------


class ConsentOutput(serializers.ModelSerializer):
    source_reference = serializers.CharField(allow_null=True)

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "purpose",
            "action",
            "method",
            "occurred_at",
            "wording",
            "wording_version",
            "source_reference",
            "recorded_at",
        ]


class ConsumerOutput(serializers.ModelSerializer):
    # Declared: the encrypted columns are binary in the database, plain values here.
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    date_of_birth = serializers.DateField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    timezone = serializers.CharField(allow_null=True)
    restriction_reason = serializers.CharField(allow_null=True)
    lists = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    suppressed = serializers.SerializerMethodField()

    class Meta:
        model = Consumer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "date_of_birth",
            "postcode",
            "timezone",
            "restricted_at",
            "restriction_reason",
            "objected_at",
            "created_at",
            "updated_at",
            "lists",
            "consent",
            "suppressed",
        ]

    def _summary(self, obj) -> dict:
        # Many consumers (a search) are summed up in one go by the view; one on its own here.
        summaries = self.context.setdefault("summaries", {})
        if obj.pk not in summaries:
            summaries.update(selectors.consumer_summaries([obj]))
        return summaries[obj.pk]

    def get_lists(self, obj) -> list[int]:
        return self._summary(obj)["lists"]

    def get_consent(self, obj) -> dict[str, bool]:
        return self._summary(obj)["consent"]

    def get_suppressed(self, obj) -> bool:
        return self._summary(obj)["suppressed"]


class ConsumerDetailOutput(ConsumerOutput):
    consents = serializers.SerializerMethodField()

    class Meta(ConsumerOutput.Meta):
        fields = [*ConsumerOutput.Meta.fields, "consents"]

    def get_consents(self, obj) -> list[dict]:
        return ConsentOutput(selectors.consent_history(obj), many=True).data


class ConsumerSearchApi(_Api):
    """POST, not GET: the number or address is in the body, not the URL."""

    write_capability = Capability.VIEW

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ConsumerSearchInput"

        phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
        email = serializers.CharField(required=False, allow_blank=True, max_length=254)

        def validate(self, attrs):
            if not attrs.get("phone") and not attrs.get("email"):
                raise serializers.ValidationError("Give a phone number or an e-mail address.")
            return attrs

    @extend_schema(request=Input, responses=ConsumerOutput(many=True))
    def post(self, request, org_id):
        data = self.validated(self.Input)
        try:
            found = list(selectors.consumer_search(organisation=request.organisation, **data))
        except DjangoValidationError as exc:
            field = "phone" if data.get("phone") else "email"
            raise ValidationError({field: exc.messages}) from exc
        if found:
            audit.record(
                audit.PERSONAL_DATA_REVEALED,
                request=request,
                organisation_id=request.organisation.pk,
                details={"view": "consumer search", "rows": len(found)},
            )
        summaries = selectors.consumer_summaries(found)
        return Response({"results": ConsumerOutput(found, many=True, context={"summaries": summaries}).data})


class ConsumerApi(_Api):
    @extend_schema(responses=ConsumerDetailOutput)
    def get(self, request, org_id, consumer_id):
        consumer = consumer_of(request, consumer_id)
        audit.record(audit.PERSONAL_DATA_REVEALED, request=request, target=consumer, details={"view": "consumer record"})
        return Response(ConsumerDetailOutput(consumer).data)


class RestrictionApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "RestrictionInput"

        reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    @extend_schema(request=Input, responses=ConsumerDetailOutput)
    def post(self, request, org_id, consumer_id):
        """P38: restrict processing (kept, never called)."""
        consumer = consumer_of(request, consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        consumer = services.consumer_restrict(consumer=consumer, by=request.actor, request=request, **data)
        return Response(ConsumerDetailOutput(consumer).data)

    @extend_schema(responses=ConsumerDetailOutput)
    def delete(self, request, org_id, consumer_id):
        """Lift the restriction."""
        consumer = services.consumer_unrestrict(consumer=consumer_of(request, consumer_id), by=request.actor, request=request)
        return Response(ConsumerDetailOutput(consumer).data)


class ObjectionApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ObjectionInput"

        reason = serializers.ChoiceField(choices=[SuppressionReason.OPT_OUT, SuppressionReason.OBJECTION])
        method = serializers.ChoiceField(choices=ConsentRecord.Method.choices, default=ConsentRecord.Method.VERBAL)

    @extend_schema(request=Input, responses=ConsumerDetailOutput)
    def post(self, request, org_id, consumer_id):
        """P40: record an opt-out or objection; the number is suppressed and every consent withdrawn at once."""
        consumer = consumer_of(request, consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        consumer = services.consumer_record_objection(
            consumer=consumer,
            source=SuppressionSource.CLIENT_REQUEST,
            by=request.actor,
            request=request,
            **data,
        )
        return Response(ConsumerDetailOutput(consumer).data)


class ConsentsApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ConsentsInput"

        purpose = serializers.ChoiceField(choices=ConsentRecord.Purpose.choices)
        method = serializers.ChoiceField(choices=ConsentRecord.Method.choices)
        occurred_at = serializers.DateTimeField()
        wording = serializers.CharField(required=False, allow_blank=True, default="")
        wording_version = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
        source_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    @extend_schema(request=Input, responses={201: ConsentOutput})
    def post(self, request, org_id, consumer_id):
        """P18: record a consent in the ledger."""
        consumer = consumer_of(request, consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        entry = services.consent_record(
            consumer=consumer,
            recorded_by=request.actor,
            request=request,
            **data,
        )
        return Response(ConsentOutput(entry).data, status=status.HTTP_201_CREATED)


class WithdrawalsApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "WithdrawalsInput"

        purpose = serializers.ChoiceField(choices=ConsentRecord.Purpose.choices)
        method = serializers.ChoiceField(choices=ConsentRecord.Method.choices)
        occurred_at = serializers.DateTimeField(required=False)
        source_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    @extend_schema(request=Input, responses={201: ConsentOutput})
    def post(self, request, org_id, consumer_id):
        """P41: record a withdrawal of consent; effective at once."""
        consumer = consumer_of(request, consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        entry = services.consent_withdraw(
            consumer=consumer,
            recorded_by=request.actor,
            request=request,
            **data,
        )
        return Response(ConsentOutput(entry).data, status=status.HTTP_201_CREATED)


class UnderSixteenApi(_Api):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, org_id, consumer_id):
        """P48: the person is under 16: delete the record at once (the number stays blocked)."""
        services.consumer_delete_under_16(consumer=consumer_of(request, consumer_id), by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Do-not-call list ---------------------------------------------------------------


class SuppressionsApi(_Api):
    class Input(PhoneInput):
        class Meta:
            ref_name = "SuppressionsInput"

        reason = serializers.ChoiceField(
            choices=[SuppressionReason.OPT_OUT, SuppressionReason.OBJECTION, SuppressionReason.CLIENT_REQUEST],
            default=SuppressionReason.OPT_OUT,
        )

    @extend_schema(request=Input, responses={201: None})
    def post(self, request, org_id):
        """Add a number to the organisation's do-not-call list. Only its blind index is kept."""
        data = self.validated(self.Input)
        entry = services.suppression_add(
            phone=data["phone"],
            organisation=request.organisation,
            reason=data["reason"],
            source=SuppressionSource.CLIENT_REQUEST,
            created_by=request.actor,
            request=request,
        )
        return Response(
            {"reason": entry.reason, "source": entry.source, "created_at": entry.created_at}, status=status.HTTP_201_CREATED
        )


class SuppressionCheckApi(_Api):
    write_capability = Capability.VIEW

    @extend_schema(request=PhoneInput, responses={200: {"type": "object", "properties": {"suppressed": {"type": "boolean"}}}})
    def post(self, request, org_id):
        """Is this number on the do-not-call list for this organisation (its own list or NextSupport's)?"""
        data = self.validated(PhoneInput)
        return Response({"suppressed": selectors.is_suppressed(organisation=request.organisation, phone=data["phone"])})
