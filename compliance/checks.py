"""System checks for the records of evidence: a provider in use must be in the sub-processor
register (P20), and every category of personal data in the record of processing (P01).

They read the database, so they run with `migrate` and `check --database default`,
and the admin shows the same warnings on the compliance dashboard.
"""

from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.database)
def records_complete(app_configs, databases=None, **kwargs):
    if not databases:
        return []
    from . import records

    try:
        missing_providers = records.unregistered_services()
        missing_categories = records.categories_without_record()
    except DatabaseError:
        return []  # not migrated yet: migrate runs the checks again once it has
    warnings = [
        checks.Warning(
            f"The configuration uses {s.role} ({s.detail}), which is not in the sub-processor register.",
            hint=f"Add a sub-processor with service {s.service!r} in the admin, with its DPA status and transfer safeguard.",
            id="compliance.W001",
        )
        for s in missing_providers
    ]
    warnings += [
        checks.Warning(
            f"The record of processing has no purpose or lawful basis for {label}.",
            hint="Add it under Compliance > Records of processing in the admin.",
            id="compliance.W002",
        )
        for label in missing_categories
    ]
    return warnings
