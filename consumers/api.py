"""REST API for contact lists, imports, consumers, consent and the do-not-call list.

Under /api/v1/orgs/<org_id>/: reads need the "view" capability, writes
"manage_contacts" (so do the import's error report and rejected rows, which
are for fixing the file), a whole-list export "export_data". Names, full numbers
and e-mail addresses need "see_personal_data": without it (viewers, read-only
keys) consumers come back masked. Errors come in DRF's shape, naming the field
and saying why. Phone numbers and e-mails are sent in request bodies (POST),
never in URLs, so they stay out of logs.

Callers are people (signed in) or an organisation's API key: services get
`request.actor` (the User, or None for a key) and the request, from which the
audit trail names the key. The API does everything the portal does with
contact lists, with two decisions made plainly:

- An attestation of a list's lawful basis (P19) names the person who answers
  for it. Sent with a key, it records the key and the person who created the
  key, and is refused once that person may no longer manage contacts.
- A whole-list export is a bulk export of personal data, which stays with
  signed-in people (no key scope has "export_data"); an integration pages
  through a list's members instead, each page an audited read.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.access import OrganisationServiceAPIView
from accounts.models import Capability
from nextsupport.schema import paginated

from . import http, selectors, services
from .csvfiles import ImportFileError, duplicate_columns
from .models import ConsentRecord, Consumer, ContactList, ImportJob, LawfulBasisAttestation, SuppressionReason, SuppressionSource
from .rows import suggest_mapping

LISTS, IMPORTS, CONSUMERS, DO_NOT_CALL = "Contact lists", "Imports", "Consumers", "Do-not-call list"
# Operations that act on the resource in the URL alone: their body is documented as an empty object.
EMPTY_BODY = {"application/json": {"type": "object", "additionalProperties": False}}


# Reads need VIEW, writes MANAGE_CONTACTS (set `write_capability` to change that). Rows are looked
# up only within request.organisation (P04): anything else is a 404. (A comment, not a docstring:
# drf-spectacular would print a docstring as the description of every operation.)
class _Api(OrganisationServiceAPIView):
    write_capability = Capability.MANAGE_CONTACTS

    def contact_list(self, list_id) -> ContactList:
        return selectors.contact_list_of(self.request.organisation, list_id)

    def import_job(self, job_id) -> ImportJob:
        return selectors.import_job_of(self.request.organisation, job_id)

    def consumer(self, consumer_id) -> Consumer:
        return selectors.consumer_of(self.request.organisation, consumer_id)

    def detail(self, consumer: Consumer) -> dict:
        shown = selectors.as_seen_by([consumer], personal_data=http.sees_personal_data(self.request))[0]
        return ConsumerDetailOutput(shown).data


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
        purpose = serializers.ChoiceField(
            choices=ContactList.Purpose.choices,
            help_text="Marketing lists need each person's consent date and are screened against the TPS and CTPS; "
            "creating one is refused while NextSupport has no register file loaded.",
        )

    @extend_schema(
        summary="List the contact lists",
        operation_id="orgs_lists_list",
        responses=paginated(ContactListOutput, "ContactListPage"),
        tags=[LISTS],
    )
    def get(self, request, org_id):
        lists = selectors.with_usability(ContactList.objects.filter(organisation=request.organisation)).order_by("-created_at")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(lists, request, view=self)
        return paginator.get_paginated_response(ContactListOutput(page, many=True).data)

    @extend_schema(summary="Create a contact list", request=Input, responses={201: ContactListOutput}, tags=[LISTS])
    def post(self, request, org_id):
        data = self.validated(self.Input)
        contact_list = services.contact_list_create(organisation=request.organisation, created_by=request.actor, **data)
        return Response(ContactListOutput(contact_list).data, status=status.HTTP_201_CREATED)


class ContactListApi(_Api):
    @extend_schema(summary="Get a contact list", responses=ContactListOutput, tags=[LISTS])
    def get(self, request, org_id, list_id):
        return Response(ContactListOutput(self.contact_list(list_id)).data)

    @extend_schema(
        summary="Delete a contact list",
        description="Deletes the list and everyone on it who is on no other list. Refused while an import into it runs. "
        "Consent records, attestations and do-not-call entries stay.",
        responses={204: None},
        tags=[LISTS],
    )
    def delete(self, request, org_id, list_id):
        services.contact_list_delete(contact_list=self.contact_list(list_id), by=request.actor, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttestationInput(serializers.Serializer):
    basis = serializers.ChoiceField(choices=LawfulBasisAttestation.Basis.choices)
    wording = serializers.CharField(help_text="Why you may have these people called, in your own words (20 characters or more).")


class AttestationApi(_Api):
    @extend_schema(
        summary="Attest a list's lawful basis",
        description="Records who vouches for the list, when, and their words (kept as evidence). "
        "With an API key, the key and the person who created it are recorded; that person must still be able to "
        "manage contacts. Marketing lists need the basis “consent”.",
        request=AttestationInput,
        responses={201: ContactListOutput},
        tags=[LISTS],
    )
    def post(self, request, org_id, list_id):
        contact_list = self.contact_list(list_id)
        data = self.validated(AttestationInput)
        services.contact_list_attest(
            contact_list=contact_list, by=request.actor, api_key=request.api_key, request=request, **data
        )
        return Response(ContactListOutput(contact_list).data, status=status.HTTP_201_CREATED)


class ScreeningApi(_Api):
    @extend_schema(
        summary="Screen a marketing list against the TPS and CTPS",
        description="Takes registered numbers off the list now. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses=inline_serializer("ScreeningOutput", {"removed": serializers.IntegerField(), "list": ContactListOutput()}),
        tags=[LISTS],
    )
    def post(self, request, org_id, list_id):
        contact_list = self.contact_list(list_id)
        removed = services.contact_list_screen(contact_list=contact_list, by=request.actor, request=request)
        return Response({"removed": removed, "list": ContactListOutput(contact_list).data})


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True, help_text="Null without the capability to see personal data.")
    phone = serializers.CharField(help_text="E.164, or its last digits only without the capability to see personal data.")
    email = serializers.CharField(allow_null=True)
    state = serializers.SerializerMethodField()
    restricted_at = serializers.DateTimeField(allow_null=True)
    objected_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_state(self, obj) -> str:
        return selectors.member_state(obj)


class ListMembersApi(_Api):
    @extend_schema(
        summary="List the people on a list",
        description="Fifty a page, oldest first. Names, full numbers and e-mail addresses need the capability to see "
        "personal data (read-write keys, managers and up); otherwise they come masked.",
        parameters=[
            OpenApiParameter(
                "state", enum=selectors.MemberState.VALUES, required=False, description="Only people in this state."
            ),
            OpenApiParameter("page", int, required=False),
        ],
        operation_id="orgs_lists_members_list",
        responses=paginated(MemberOutput, "MemberPage"),
        tags=[LISTS],
    )
    def get(self, request, org_id, list_id):
        contact_list = self.contact_list(list_id)
        state = request.query_params.get("state") or None
        if state is not None and state not in selectors.MemberState.VALUES:
            raise ValidationError({"state": [f"Use one of: {', '.join(selectors.MemberState.VALUES)}."]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.list_members(contact_list, state=state), request, view=self)
        http.revealed(self.request, "list members", len(page), target=contact_list)
        members = selectors.as_seen_by(page, personal_data=http.sees_personal_data(request))
        return paginator.get_paginated_response(MemberOutput(members, many=True).data)


class ListExportApi(_Api):
    capability = Capability.EXPORT_DATA

    @extend_schema(
        summary="Export a list as CSV",
        description="Everyone on the list with what we hold of them. A bulk export of personal data: for signed-in "
        "people whose role may export data. No API key scope can (page through the members instead).",
        responses={(200, "text/csv"): str},
        tags=[LISTS],
    )
    def get(self, request, org_id, list_id):
        return http.list_export_response(request, self.contact_list(list_id))


# --- Imports ------------------------------------------------------------------------


class ImportOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    duplicate_columns = serializers.SerializerMethodField()

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
            "duplicate_columns",
            "mapping",
            "dropped_columns",
            "uploaded_at",
            "started_at",
            "finished_at",
            "progress",
        ]

    def get_progress(self, obj) -> dict:
        return selectors.import_progress(obj)

    def get_duplicate_columns(self, obj) -> list[dict]:
        """Header names used more than once: the column numbers (from 1), and the one suggested."""
        return duplicate_columns(obj.columns)


class UploadOutput(ImportOutput):
    suggested_mapping = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()

    class Meta(ImportOutput.Meta):
        fields = [*ImportOutput.Meta.fields, "suggested_mapping", "preview"]

    def get_suggested_mapping(self, obj) -> dict[str, str]:
        return suggest_mapping(obj.columns)

    def get_preview(self, obj) -> list[list[str]]:
        return services.import_job_preview(obj)


class ImportsApi(_Api):
    parser_classes = [MultiPartParser, FormParser]

    # Described by hand: as a serializer field, a file is documented as a URI, not the binary part it is.
    UPLOAD_BODY = {
        "multipart/form-data": {
            "type": "object",
            "properties": {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "The CSV file: UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab separated; "
                    "the first row holds the column names.",
                }
            },
            "required": ["file"],
        }
    }

    @extend_schema(
        summary="Upload a CSV file into a list",
        description="Stores the file and reads its shape. The answer shows the columns, any duplicate header names, "
        "a suggested mapping and the first rows. A file we cannot read is refused with the reason, and nothing is stored.",
        request=UPLOAD_BODY,
        responses={201: UploadOutput},
        tags=[IMPORTS],
    )
    def post(self, request, org_id, list_id):
        contact_list = self.contact_list(list_id)
        if problem := http.upload_too_large(request):
            raise ValidationError({"file": [problem]})
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Send the CSV file in the multipart field “file”."]})
        try:
            job = services.import_job_create(contact_list=contact_list, upload=upload, uploaded_by=request.actor, request=request)
        except ImportFileError as exc:
            raise ValidationError({"file": exc.messages}) from exc
        return Response(UploadOutput(job).data, status=status.HTTP_201_CREATED)


class ImportApi(_Api):
    @extend_schema(summary="Get an import and its progress", responses=ImportOutput, tags=[IMPORTS])
    def get(self, request, org_id, job_id):
        """An import with its progress: rows read, accepted, with warnings, rejected, suppressed, duplicates."""
        return Response(ImportOutput(self.import_job(job_id)).data)

    @extend_schema(
        summary="Discard an upload",
        description="Only an upload not yet started. Its file is deleted; a list left with nobody, no other upload "
        "and no attestation goes too.",
        responses={204: None},
        tags=[IMPORTS],
    )
    def delete(self, request, org_id, job_id):
        services.import_job_discard(job=self.import_job(job_id), by=request.actor, request=request)
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
        attestation = AttestationInput(
            required=False, help_text="Attest the list's lawful basis in the same step (needed once per list)."
        )

    @extend_schema(
        summary="Start an import",
        description="Confirms the column mapping (and, for a marketing list, the consent evidence) and queues the import. "
        "The list needs an attested lawful basis: give `attestation` to record it in the same step.",
        request=Input,
        responses={202: ImportOutput},
        tags=[IMPORTS],
    )
    def post(self, request, org_id, job_id):
        job = self.import_job(job_id)
        data = self.validated(self.Input)
        job = services.import_job_start(job=job, by=request.actor, api_key=request.api_key, request=request, **data)
        return Response(ImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class _FixTheFileApi(_Api):
    """The import's reports are for correcting the file: whoever may upload may download them."""

    @property
    def capability(self):
        return Capability.MANAGE_CONTACTS


class ImportProblemsApi(_FixTheFileApi):
    @extend_schema(
        summary="Download an import's error report",
        description="CSV: row, column, value (only where it helps), problem, and whether the row was imported without "
        "the value (a warning) or not imported. Kept 30 days after the import.",
        responses={(200, "text/csv"): str},
        tags=[IMPORTS],
    )
    def get(self, request, org_id, job_id):
        return http.import_problems_response(request, self.import_job(job_id))


class RejectedRowsApi(_FixTheFileApi):
    @extend_schema(
        summary="Download an import's rejected rows",
        description="CSV in the file's own columns, to correct and upload again. Columns not imported are empty (we "
        "never kept them); rows left out as do-not-call, TPS/CTPS or under 16 are never included. Kept 30 days.",
        responses={(200, "text/csv"): str},
        tags=[IMPORTS],
    )
    def get(self, request, org_id, job_id):
        return http.rejected_rows_response(request, self.import_job(job_id))


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

    restricted_at = serializers.DateTimeField(
        allow_null=True, help_text="Set while processing is restricted: kept, never called."
    )
    objected_at = serializers.DateTimeField(
        allow_null=True, help_text="When the person objected or opted out: never called again."
    )

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
            summaries.update(selectors.consumer_summaries([getattr(obj, "record", obj)]))
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

    @extend_schema(
        summary="Find consumers by phone number or e-mail",
        request=Input,
        responses=inline_serializer("ConsumerSearchOutput", {"results": ConsumerOutput(many=True)}),
        tags=[CONSUMERS],
    )
    def post(self, request, org_id):
        data = self.validated(self.Input)
        try:
            found = list(selectors.consumer_search(organisation=request.organisation, **data))
        except DjangoValidationError as exc:
            field = "phone" if data.get("phone") else "email"
            raise ValidationError({field: exc.messages}) from exc
        http.revealed(self.request, "consumer search", len(found), organisation_id=request.organisation.pk)
        summaries = selectors.consumer_summaries(found)
        shown = selectors.as_seen_by(found, personal_data=http.sees_personal_data(request))
        return Response({"results": ConsumerOutput(shown, many=True, context={"summaries": summaries}).data})


class ConsumerApi(_Api):
    @extend_schema(summary="Get a consumer", responses=ConsumerDetailOutput, tags=[CONSUMERS])
    def get(self, request, org_id, consumer_id):
        consumer = self.consumer(consumer_id)
        http.revealed(self.request, "consumer record", target=consumer)
        return Response(self.detail(consumer))


class RestrictionApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "RestrictionInput"

        reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    @extend_schema(summary="Restrict processing of a consumer", request=Input, responses=ConsumerDetailOutput, tags=[CONSUMERS])
    def post(self, request, org_id, consumer_id):
        """The record is kept, and the person is never called while restricted."""
        consumer = self.consumer(consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        consumer = services.consumer_restrict(consumer=consumer, by=request.actor, request=request, **data)
        return Response(self.detail(consumer))

    @extend_schema(summary="Lift a consumer's restriction", responses=ConsumerDetailOutput, tags=[CONSUMERS])
    def delete(self, request, org_id, consumer_id):
        consumer = services.consumer_unrestrict(consumer=self.consumer(consumer_id), by=request.actor, request=request)
        return Response(self.detail(consumer))


class ObjectionApi(_Api):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ObjectionInput"

        reason = serializers.ChoiceField(choices=[SuppressionReason.OPT_OUT, SuppressionReason.OBJECTION])
        method = serializers.ChoiceField(choices=ConsentRecord.Method.choices, default=ConsentRecord.Method.VERBAL)

    @extend_schema(
        summary="Record an opt-out or objection",
        description="The number goes on the do-not-call list and every consent is withdrawn, at once.",
        request=Input,
        responses=ConsumerDetailOutput,
        tags=[CONSUMERS],
    )
    def post(self, request, org_id, consumer_id):
        consumer = self.consumer(consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        consumer = services.consumer_record_objection(
            consumer=consumer,
            source=SuppressionSource.CLIENT_REQUEST,
            by=request.actor,
            request=request,
            **data,
        )
        return Response(self.detail(consumer))


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

    @extend_schema(summary="Record a consent", request=Input, responses={201: ConsentOutput}, tags=[CONSUMERS])
    def post(self, request, org_id, consumer_id):
        consumer = self.consumer(consumer_id)  # 404 before the input is even read
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

    @extend_schema(summary="Record a withdrawal of consent", request=Input, responses={201: ConsentOutput}, tags=[CONSUMERS])
    def post(self, request, org_id, consumer_id):
        """Effective at once."""
        consumer = self.consumer(consumer_id)  # 404 before the input is even read
        data = self.validated(self.Input)
        entry = services.consent_withdraw(
            consumer=consumer,
            recorded_by=request.actor,
            request=request,
            **data,
        )
        return Response(ConsentOutput(entry).data, status=status.HTTP_201_CREATED)


class UnderSixteenApi(_Api):
    @extend_schema(
        summary="Delete a consumer found to be under 16",
        description="The record goes at once and the number stays blocked. The body is an empty JSON object.",
        request=EMPTY_BODY,
        responses={204: None},
        tags=[CONSUMERS],
    )
    def post(self, request, org_id, consumer_id):
        services.consumer_delete_under_16(consumer=self.consumer(consumer_id), by=request.actor, request=request)
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

    @extend_schema(
        summary="Add a number to the do-not-call list",
        description="Only a keyed hash of the number is kept.",
        request=Input,
        responses={
            201: inline_serializer(
                "SuppressionOutput",
                {"reason": serializers.CharField(), "source": serializers.CharField(), "created_at": serializers.DateTimeField()},
            )
        },
        tags=[DO_NOT_CALL],
    )
    def post(self, request, org_id):
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

    @extend_schema(
        summary="Check a number against the do-not-call list",
        description="Whether the organisation must not call it: on its own list, or on NextSupport's.",
        request=PhoneInput,
        responses=inline_serializer("SuppressionCheckOutput", {"suppressed": serializers.BooleanField()}),
        tags=[DO_NOT_CALL],
    )
    def post(self, request, org_id):
        data = self.validated(PhoneInput)
        return Response({"suppressed": selectors.is_suppressed(organisation=request.organisation, phone=data["phone"])})
