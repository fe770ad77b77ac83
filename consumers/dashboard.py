"""The consumers app's part of an organisation's dashboard (see accounts.dashboard)."""

from accounts import dashboard

from . import selectors
from .models import ContactList

ACTIVITY = {
    "contact_list.file_uploaded": "uploaded a file",
    "contact_list.import_started": "started an import",
    "contact_list.imported": "finished importing a file",
    "contact_list.import_failed": "could not import a file",
    "contact_list.attested": "attested the lawful basis of a list",
    "contact_list.screened": "screened a list against the TPS and CTPS",
    "contact_list.deleted": "deleted a list",
    "contact_list.upload_discarded": "discarded an upload",
    "suppression.added": "added a number to the do-not-call list",
    "consumer.objected": "recorded an opt-out",
    "consumer.restricted": "restricted a person's data",
}


def lists_and_imports(request) -> dict:
    organisation = request.organisation
    lists = list(selectors.with_usability(ContactList.objects.filter(organisation=organisation).order_by("-created_at"))[:5])
    for contact_list in lists:
        contact_list.ready = not selectors.list_unusable_reasons(contact_list)  # attested, imported, screened
    return {
        "lists": lists,
        "list_count": ContactList.objects.filter(organisation=organisation).count(),
        "imports_in_progress": selectors.imports_in_progress(organisation),
    }


def register() -> None:
    dashboard.register_section(template="consumers/_dashboard.html", context=lists_and_imports, order=10)
    dashboard.register_activity(ACTIVITY)
