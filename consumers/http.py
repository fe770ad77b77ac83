"""HTTP pieces the portal (consumers.views) and the API (consumers.api) share: the
upload size check made before a body is read, and the CSV downloads, each an
audited bulk read of personal data (P15) written through nextsupport.exports,
which makes every cell safe to open in a spreadsheet."""

from django.conf import settings

from accounts.access import caller_can
from accounts.models import Capability
from nextsupport import audit
from nextsupport.exports import csv_response

from . import selectors
from .csvfiles import too_large_message
from .models import ContactList, ImportJob


def upload_too_large(request) -> str | None:
    """Why the request body is too big to hold an acceptable file, or None.

    Checked before Django reads the body, so a huge upload is refused without
    first being written to a temporary file. (The exact file size is checked
    again once the file is read.)
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > settings.CONTACT_IMPORT_MAX_BYTES + 64 * 1024:
        return too_large_message(length, settings.CONTACT_IMPORT_MAX_BYTES)
    return None


def sees_personal_data(request) -> bool:
    """Whether the caller (member or key) may see consumers' names, full numbers and e-mails."""
    return caller_can(request, Capability.SEE_PERSONAL_DATA)


def revealed(request, what: str, rows: int | None = None, *, page: int | None = None, **target) -> None:
    """Showing people's personal data is a bulk read of it (P15, P26); a masked answer is not.

    `rows` None: one record; 0: nothing shown, nothing recorded."""
    if rows == 0 or not sees_personal_data(request):
        return
    details = {"view": what} if rows is None else {"view": what, "rows": rows}
    if page is not None:
        details["page"] = page
    audit.record(audit.PERSONAL_DATA_REVEALED, request=request, details=details, **target)


def _exported(request, target, what: str, rows: int | None = None) -> None:
    details = {"export": what} if rows is None else {"export": what, "rows": rows}
    audit.record(audit.PERSONAL_DATA_EXPORTED, request=request, target=target, details=details)


def import_problems_response(request, job: ImportJob):
    """The error report as CSV: row, column, value (only where it helps), problem, and whether the row was kept."""
    _exported(request, job, "import error report", job.problems_listed)
    rows = (
        (p.row_number, p.column, p.value or "", p.reason, "Imported without this value" if p.kept else "Not imported")
        for p in job.problems.order_by("row_number", "id").iterator(2000)
    )
    return csv_response(f"import-{job.pk}-problems.csv", ["Row", "Column", "Value", "Problem", "Outcome"], rows)


def rejected_rows_response(request, job: ImportJob):
    """The rejected rows in the file's own columns, to correct and upload again (kept as long as the error report)."""
    _exported(request, job, "rejected rows")
    return csv_response(f"import-{job.pk}-rejected-rows.csv", job.columns, selectors.rejected_rows(job))


def list_export_response(request, contact_list: ContactList):
    """Everyone on a list with what we hold of them (P39's structured export, for the client)."""
    _exported(request, contact_list, "contact list")
    return csv_response(
        f"list-{contact_list.pk}.csv", selectors.MEMBERS_EXPORT_HEADER, selectors.members_export_rows(contact_list)
    )
