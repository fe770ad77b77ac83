"""Portal pages for contact lists, imports, consumers and the do-not-call list; and the public stop-calls page.

Every view starts from `request.organisation` (set by accounts.access): a
list, import or consumer of another organisation is a 404, like one that
does not exist (P04).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import organisation_view
from accounts.models import Capability
from nextsupport import ratelimit

from . import http, selectors, services
from .csvfiles import ImportFileError, duplicate_columns, duplicate_columns_message, encoding_label
from .forms import (
    AttestationForm,
    ConsentForm,
    ConsumerCorrectionForm,
    ConsumerSearchForm,
    FileUploadForm,
    ListUploadForm,
    MappingForm,
    ObjectionForm,
    PhoneCheckForm,
    RestrictionForm,
    StopCallsForm,
    SuppressionForm,
    WithdrawConsentForm,
)
from .models import ConsentRecord, Consumer, ContactList, ImportJob, SuppressionReason, SuppressionSource
from .rows import is_special_category, suggest_mapping

MEMBERS_PER_PAGE = 50


# Rows are found only within request.organisation (P04); the API uses the same selectors.
def list_of(request, list_id) -> ContactList:
    return selectors.contact_list_of(request.organisation, list_id)


def import_job_of(request, job_id) -> ImportJob:
    return selectors.import_job_of(request.organisation, job_id)


def consumer_of(request, consumer_id) -> Consumer:
    return selectors.consumer_of(request.organisation, consumer_id)


def _can(request, capability) -> bool:
    return request.membership.can(capability)


def _apply_errors(form, exc: ValidationError, renamed: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: on its fields (some `renamed` on the form) where they exist, otherwise on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = (renamed or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Contact lists ------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def contact_lists(request):
    lists = selectors.contact_lists_for(request.organisation).prefetch_related("attestations")
    context = {"lists": lists, "can_manage": _can(request, Capability.MANAGE_CONTACTS), "section": "lists"}
    return render(request, "consumers/lists.html", context)


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def list_new(request):
    form, too_large = ListUploadForm(), None
    if request.method == "POST":
        too_large = http.upload_too_large(request)
        if not too_large:
            form = ListUploadForm(request.POST, request.FILES)
            job = _create_list_and_upload(request, form) if form.is_valid() else None
            if job:
                return redirect("consumers:import", request.organisation.pk, job.pk)
    return render(request, "consumers/list_new.html", {"form": form, "too_large": too_large, "section": "lists"})


def _create_list_and_upload(request, form) -> ImportJob | None:
    try:
        return services.contact_list_create_from_upload(
            organisation=request.organisation,
            name=form.cleaned_data["name"],
            purpose=form.cleaned_data["purpose"],
            upload=form.cleaned_data["file"],
            created_by=request.user,
            request=request,
        )
    except ImportFileError as exc:
        form.add_error("file", exc.messages)
    except ValidationError as exc:
        _apply_errors(form, exc)
    return None


@organisation_view(capability=Capability.VIEW)
def list_detail(request, list_id):
    contact_list = list_of(request, list_id)
    state = request.GET.get("state") if request.GET.get("state") in selectors.MemberState.VALUES else None
    page = Paginator(selectors.list_members(contact_list, state=state), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    http.revealed(request, "list members", len(page.object_list), page=page.number, target=contact_list)
    context = {
        "contact_list": contact_list,
        "attestation": selectors.current_attestation(contact_list),
        "jobs": contact_list.import_jobs.all()[:20],
        "page": page,
        "members": selectors.as_seen_by(page.object_list, personal_data=http.sees_personal_data(request)),
        "state": state,
        "states": selectors.MemberState.CHOICES,
        "unusable_reasons": selectors.list_unusable_reasons(contact_list),
        "screening_current": selectors.screening_is_current(contact_list),
        "can_manage": _can(request, Capability.MANAGE_CONTACTS),
        "can_export": _can(request, Capability.EXPORT_DATA),
        "section": "lists",
    }
    return render(request, "consumers/list_detail.html", context)


@organisation_view(capability=Capability.EXPORT_DATA)
def list_export(request, list_id):
    return http.list_export_response(request, list_of(request, list_id))


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def list_upload(request, list_id):
    contact_list = list_of(request, list_id)
    form, too_large = FileUploadForm(), None
    if request.method == "POST":
        too_large = http.upload_too_large(request)
        if not too_large:
            form = FileUploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    job = services.import_job_create(
                        contact_list=contact_list, upload=form.cleaned_data["file"], uploaded_by=request.user, request=request
                    )
                    return redirect("consumers:import", request.organisation.pk, job.pk)
                except ImportFileError as exc:
                    form.add_error("file", exc.messages)
    context = {"contact_list": contact_list, "form": form, "too_large": too_large, "section": "lists"}
    return render(request, "consumers/list_upload.html", context)


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def list_attest(request, list_id):
    contact_list = list_of(request, list_id)
    form = AttestationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_list_attest(
                contact_list=contact_list,
                basis=form.cleaned_data["basis"],
                wording=form.cleaned_data["wording"],
                by=request.user,
                request=request,
            )
            messages.success(request, "Your attestation is recorded.")
            return redirect("consumers:list", request.organisation.pk, contact_list.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "consumers/list_attest.html", {"contact_list": contact_list, "form": form, "section": "lists"})


@require_POST
@organisation_view(capability=Capability.MANAGE_CONTACTS)
def list_screen(request, list_id):
    contact_list = list_of(request, list_id)
    try:
        removed = services.contact_list_screen(contact_list=contact_list, by=request.user, request=request)
        messages.success(request, f"Screened against the TPS and CTPS: {removed:,} registered numbers were taken off the list.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("consumers:list", request.organisation.pk, contact_list.pk)


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def list_delete(request, list_id):
    contact_list = list_of(request, list_id)
    if request.method == "POST":
        try:
            deleted = services.contact_list_delete(contact_list=contact_list, by=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("consumers:list", request.organisation.pk, contact_list.pk)
        messages.success(request, f"The list “{contact_list.name}” and {deleted:,} people on no other list were deleted.")
        return redirect("consumers:lists", request.organisation.pk)
    return render(request, "consumers/list_delete.html", {"contact_list": contact_list, "section": "lists"})


# --- Imports ------------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def import_detail(request, job_id):
    job = import_job_of(request, job_id)
    if job.status == ImportJob.Status.UPLOADED and _can(request, Capability.MANAGE_CONTACTS):
        return _mapping_step(request, job)
    context = {
        "job": job,
        "contact_list": job.contact_list,
        "problems": job.problems.all()[:20],
        # The report's values are what was in the client's file: personal data.
        "show_values": http.sees_personal_data(request),
        "can_download": _can(request, Capability.MANAGE_CONTACTS),
        "rejected_rows": job.finished and selectors.rejected_rows_exist(job),
        "section": "lists",
    }
    return render(request, "consumers/import_detail.html", context)


def _mapping_step(request, job):
    needs_attestation = not job.contact_list.attestations.exists()
    kwargs = {"job": job, "suggested": suggest_mapping(job.columns), "needs_attestation": needs_attestation}
    form = MappingForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            attestation = (
                {"basis": form.cleaned_data["attest_basis"], "wording": form.cleaned_data["attest_wording"]}
                if needs_attestation
                else None
            )
            services.import_job_start(
                job=job,
                mapping=form.mapping(),
                consent_purposes=form.cleaned_data.get("consent_purposes"),
                consent_wording=form.cleaned_data.get("consent_wording", ""),
                consent_wording_version=form.cleaned_data.get("consent_wording_version", ""),
                attestation=attestation,
                clear_empty=form.cleaned_data.get("clear_empty", False),
                by=request.user,
                request=request,
            )
            return redirect("consumers:import", request.organisation.pk, job.pk)
        except ValidationError as exc:
            # The attestation's fields are prefixed on the mapping form.
            _apply_errors(form, exc, renamed={"basis": "attest_basis", "wording": "attest_wording"})
    preview = services.import_job_preview(job)
    columns = [
        (
            column,
            [row[index] for row in preview if row[index]][:3],
            None if is_special_category(column) else form[f"column_{index}"],
        )
        for index, column in enumerate(job.columns)
    ]
    context = {
        "job": job,
        "contact_list": job.contact_list,
        "form": form,
        "preview": preview,
        "columns": columns,
        "encoding": encoding_label(job.encoding),
        "duplicate_columns": [duplicate_columns_message(d) for d in duplicate_columns(job.columns)],
        "section": "lists",
    }
    return render(request, "consumers/import_mapping.html", context)


@never_cache
@organisation_view(capability=Capability.VIEW)
def import_progress(request, job_id):
    return JsonResponse(selectors.import_progress(import_job_of(request, job_id)))


# The error report and the rejected rows are for fixing the file: whoever may upload may download them.
@organisation_view(capability=Capability.MANAGE_CONTACTS)
def import_problems_csv(request, job_id):
    return http.import_problems_response(request, import_job_of(request, job_id))


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def import_rejected_rows_csv(request, job_id):
    return http.rejected_rows_response(request, import_job_of(request, job_id))


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def import_discard(request, job_id):
    job = import_job_of(request, job_id)
    if request.method != "POST":
        context = {
            "job": job,
            "contact_list": job.contact_list,
            "list_goes_too": selectors.discarding_leaves_list_empty(job),
            "section": "lists",
        }
        return render(request, "consumers/import_discard.html", context)
    list_id = job.contact_list_id
    try:
        list_gone = services.import_job_discard(job=job, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("consumers:import", request.organisation.pk, job.pk)
    if list_gone:
        messages.success(request, "The upload was discarded and its file deleted. Its list held nobody else, so it went too.")
        return redirect("consumers:lists", request.organisation.pk)
    messages.success(request, "The upload was discarded and its file deleted.")
    return redirect("consumers:list", request.organisation.pk, list_id)


# --- Consumers ----------------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def consumer_search(request):
    # POST, not GET: phone numbers and e-mails stay out of URLs, logs and history.
    form = ConsumerSearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        found = selectors.consumer_search(
            organisation=request.organisation, phone=form.cleaned_data["phone"], email=form.cleaned_data["email"]
        )
        results = selectors.as_seen_by(found, personal_data=http.sees_personal_data(request))
        http.revealed(request, "consumer search", len(results), organisation_id=request.organisation.pk)
    return render(request, "consumers/consumer_search.html", {"form": form, "results": results, "section": "consumers"})


@organisation_view(capability=Capability.VIEW)
def consumer_detail(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    http.revealed(request, "consumer record", target=consumer)
    context = {
        "consumer": selectors.as_seen_by([consumer], personal_data=http.sees_personal_data(request))[0],
        "consents": selectors.consent_history(consumer),
        "consent_status": [(ConsentRecord.Purpose(p).label, valid) for p, valid in selectors.consent_status(consumer).items()],
        "lists": selectors.lists_of(consumer),
        "suppressed": selectors.is_suppressed(organisation=request.organisation, phone_index=consumer.phone_index),
        "stopped": selectors.processing_stopped(consumer),
        "can_manage": _can(request, Capability.MANAGE_CONTACTS),
        "can_correct": http.sees_personal_data(request),
        "restriction_form": RestrictionForm(),
        "section": "consumers",
    }
    return render(request, "consumers/consumer_detail.html", context)


@organisation_view(capability=Capability.SEE_PERSONAL_DATA)
def consumer_correct(request, consumer_id):
    """P36: correct the person's details (the number excepted); an emptied field is cleared."""
    consumer = consumer_of(request, consumer_id)
    form = ConsumerCorrectionForm.for_consumer(consumer, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consumer_correct(consumer=consumer, changes=form.changes(), by=request.user, request=request)
            messages.success(request, "Details corrected.")
            return redirect("consumers:consumer", request.organisation.pk, consumer.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    http.revealed(request, "consumer record", target=consumer)
    lead = "Empty a field to remove that detail. The phone number cannot be changed: a different number is a different person."
    return _consumer_form(request, consumer, form, "Correct this person's details", "Save the corrections", lead)


@require_POST
@organisation_view(capability=Capability.MANAGE_CONTACTS)
def consumer_restriction(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    if request.POST.get("action") == "unrestrict":
        services.consumer_unrestrict(consumer=consumer, by=request.user, request=request)
        messages.success(request, "Restriction lifted: this person can be called again.")
    else:
        form = RestrictionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        services.consumer_restrict(consumer=consumer, by=request.user, request=request, reason=reason)
        messages.success(request, "Processing restricted: the record is kept, and this person will not be called.")
    return redirect("consumers:consumer", request.organisation.pk, consumer.pk)


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def consumer_objection(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consumer_record_objection(
            consumer=consumer,
            reason=form.cleaned_data["reason"],
            source=SuppressionSource.CLIENT_REQUEST,
            method=form.cleaned_data["method"],
            by=request.user,
            request=request,
        )
        messages.success(request, "Recorded. This person will not be called again, and their consent is withdrawn.")
        return redirect("consumers:consumer", request.organisation.pk, consumer.pk)
    return _consumer_form(request, consumer, form, "Record an opt-out or objection", "Record it")


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def consumer_consent(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(consumer=consumer, recorded_by=request.user, request=request, **form.cleaned_data)
            messages.success(request, "Consent recorded in the ledger.")
            return redirect("consumers:consumer", request.organisation.pk, consumer.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return _consumer_form(request, consumer, form, "Record consent", "Record consent")


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def consumer_withdraw(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    form = WithdrawConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consent_withdraw(consumer=consumer, recorded_by=request.user, request=request, **form.cleaned_data)
        messages.success(request, "Withdrawal recorded: it takes effect at once.")
        return redirect("consumers:consumer", request.organisation.pk, consumer.pk)
    return _consumer_form(request, consumer, form, "Withdraw consent", "Record the withdrawal")


def _consumer_form(request, consumer, form, title, submit, lead=""):
    context = {"consumer": consumer, "form": form, "title": title, "submit": submit, "lead": lead, "section": "consumers"}
    return render(request, "consumers/consumer_form.html", context)


@organisation_view(capability=Capability.MANAGE_CONTACTS)
def consumer_under_16(request, consumer_id):
    consumer = consumer_of(request, consumer_id)
    if request.method == "POST":
        services.consumer_delete_under_16(consumer=consumer, by=request.user, request=request)
        messages.success(request, "The record was deleted. The number stays blocked so it cannot be imported again.")
        return redirect("consumers:search", request.organisation.pk)
    return render(request, "consumers/consumer_under_16.html", {"consumer": consumer, "section": "consumers"})


# --- Do-not-call list ---------------------------------------------------------------


@organisation_view(capability=Capability.VIEW)
def suppressions(request):
    # Prefixed: two phone fields on one page must not share an id.
    add_form, check_form, checked = SuppressionForm(prefix="add"), PhoneCheckForm(prefix="check"), None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "add":
        if not _can(request, Capability.MANAGE_CONTACTS):
            raise PermissionDenied("Your role does not allow adding numbers.")
        add_form = SuppressionForm(request.POST, prefix="add")
        if add_form.is_valid():
            services.suppression_add(
                phone=add_form.cleaned_data["phone"],  # already E.164
                organisation=request.organisation,
                reason=add_form.cleaned_data["reason"],
                source=SuppressionSource.CLIENT_REQUEST,
                created_by=request.user,
                request=request,
            )
            messages.success(request, "The number is on your do-not-call list: it will not be imported or called.")
            return redirect("consumers:suppressions", request.organisation.pk)
    elif action == "check":
        check_form = PhoneCheckForm(request.POST, prefix="check")
        if check_form.is_valid():
            checked = selectors.is_suppressed(organisation=request.organisation, phone=check_form.cleaned_data["phone"])
    counts = selectors.suppression_counts(request.organisation)
    context = {
        "add_form": add_form,
        "check_form": check_form,
        "checked": checked,
        "counts": [(SuppressionReason(reason).label, n) for reason, n in sorted(counts.items())],
        "total": sum(counts.values()),
        "can_manage": _can(request, Capability.MANAGE_CONTACTS),
        "section": "suppressions",
    }
    return render(request, "consumers/suppressions.html", context)


# --- Public: stop calls from us --------------------------------------------------------


STOP_CALLS_LIMIT = 10
STOP_CALLS_WINDOW = 3600


def stop_calls(request):
    """Anyone may put their number on NextSupport's platform-wide do-not-call list, at once, no questions asked."""
    form = StopCallsForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow("stop-calls", request, limit=STOP_CALLS_LIMIT, window=STOP_CALLS_WINDOW):
            return render(request, "consumers/stop_calls.html", {"form": StopCallsForm(), "rate_limited": True}, status=429)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            services.suppression_add(
                phone=phone, reason=SuppressionReason.OPT_OUT, source=SuppressionSource.WEB_OPT_OUT, request=request
            )
            return render(request, "consumers/stop_calls_done.html", {"ending": phone[-3:]})
    return render(request, "consumers/stop_calls.html", {"form": form})
