"""Records and evidence: the record of processing (P01, P17), the sub-processors the running
configuration uses (P20, P23), disclosures to authorities (P21) and staff training (P27).

The record of processing is generated from the personal-data registry (what is held, where,
by whom, for how long) and the ProcessingActivity table (why, on what basis, who receives it).
A category the registry knows but the table does not is a row marked missing, never skipped.

Which providers are in use is read from the settings, not typed in (`services_in_use`): a
provider the configuration uses but the register lacks shows on the public page as such, and
staff are told on the dashboard, in the register and by a system check.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from nextsupport import audit, privacy

from . import events
from .models import Disclosure, ProcessingActivity, SubProcessor, TrainingRecord

# --- Record of processing -----------------------------------------------------------------------

ROLE = {
    privacy.Controller.NEXTSUPPORT: "Controller",
    privacy.Controller.CLIENT: "Processor (the client is controller)",
}


@dataclass(frozen=True)
class Holding:
    """One registered model: where the category's data sits."""

    model: str
    fields: tuple[str, ...]
    role: str
    retention: str
    erasure: str


@dataclass(frozen=True)
class RopaRow:
    category: str
    label: str
    holdings: tuple[Holding, ...]
    entry: ProcessingActivity | None

    @property
    def missing(self) -> bool:
        return self.entry is None

    @property
    def roles(self) -> str:
        return "; ".join(sorted({h.role for h in self.holdings})) or "No model holds it now"


def _retention(registration: privacy.Registration) -> str:
    rule = registration.retention
    period = f"{rule.days} days after {rule.after}" if rule.days is not None else "No fixed period"
    return f"{period}, then {rule.action.label.lower()}: {rule.basis}"


def records_of_processing() -> list[RopaRow]:
    """One row per category of personal data the registry holds (or the table describes)."""
    held: dict[str, list[Holding]] = {}
    for registration in privacy.registrations():
        held.setdefault(registration.category, []).append(
            Holding(
                model=registration.label,
                fields=registration.fields,
                role=ROLE[registration.controller],
                retention=_retention(registration),
                erasure=privacy.Action(registration.erasure).label,
            )
        )
    entries = {entry.category: entry for entry in ProcessingActivity.objects.all()}
    categories = [c for c in privacy.Category.values if c in held or c in entries]
    return [
        RopaRow(
            category=c,
            label=privacy.Category(c).label,
            holdings=tuple(sorted(held.get(c, []), key=lambda h: h.model)),
            entry=entries.get(c),
        )
        for c in categories
    ]


ROPA_HEADER = [
    "Category",
    "Our role",
    "Where it is held",
    "Personal data",
    "Purpose",
    "Lawful basis",
    "Lawful basis detail",
    "Recipients",
    "Transfer safeguard",
    "Transfer detail",
    "Retention",
    "Erasure",
    "Record status",
]
MISSING = "MISSING: no purpose, lawful basis or recipients recorded for this category"


def ropa_rows(rows: list[RopaRow]):
    for row in rows:
        entry = row.entry
        yield [
            row.label,
            row.roles,
            "; ".join(h.model for h in row.holdings),
            "; ".join(f"{h.model}: {', '.join(h.fields)}" for h in row.holdings),
            entry.purpose if entry else "",
            entry.get_lawful_basis_display() if entry else "",
            entry.lawful_basis_detail if entry else "",
            entry.recipients if entry else "",
            entry.get_transfer_safeguard_display() if entry else "",
            entry.transfer_detail if entry else "",
            " | ".join(f"{h.model}: {h.retention}" for h in row.holdings),
            " | ".join(f"{h.model}: {h.erasure}" for h in row.holdings),
            MISSING if row.missing else "Complete",
        ]


def categories_without_record() -> list[str]:
    return [row.label for row in records_of_processing() if row.missing and row.holdings]


# --- Sub-processors in use ------------------------------------------------------------------------


@dataclass(frozen=True)
class InUse:
    """A third party the running configuration sends personal data to."""

    service: str
    role: str
    detail: str


LOCAL_MAIL_BACKENDS = ("console", "locmem", "filebased", "dummy")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def services_in_use() -> list[InUse]:
    """The third parties this configuration uses, read from the settings (never a list kept by hand)."""
    found = [*_telephony(), *_email(), *_storage(), *_analytics(), *_language_model()]
    return sorted(found, key=lambda s: s.service)


def _telephony() -> list[InUse]:
    from campaigns.telephony import TWILIO, configured_name

    if configured_name() == TWILIO:
        return [InUse("telephony:twilio", "Telephony: places calls, plays and records them, carries SMS", "Twilio")]
    return []  # the simulator runs on our own servers: no third party


def _email() -> list[InUse]:
    mailers = getattr(settings, "MAILERS", None) or {"default": {"BACKEND": settings.EMAIL_BACKEND, "OPTIONS": {}}}
    backend = mailers["default"]["BACKEND"]
    if any(f".{name}." in backend for name in LOCAL_MAIL_BACKENDS):
        return []
    host = mailers["default"].get("OPTIONS", {}).get("host") or getattr(settings, "EMAIL_HOST", "")
    if host in LOCAL_HOSTS:
        return []
    return [InUse("email:smtp", "E-mail delivery (SMTP)", host or backend)]


def _storage() -> list[InUse]:
    from nextsupport.storage import S3_BACKEND

    found = {}
    for _alias, config in settings.STORAGES.items():
        if config.get("BACKEND") != S3_BACKEND:
            continue
        endpoint = config.get("OPTIONS", {}).get("endpoint_url")
        host = urlsplit(endpoint).hostname if endpoint else ""
        if host in LOCAL_HOSTS:
            continue
        region = config.get("OPTIONS", {}).get("region_name", "")
        if endpoint:
            found["storage:s3-compatible"] = InUse("storage:s3-compatible", "File storage (S3-compatible)", host)
        else:
            found["storage:s3"] = InUse("storage:s3", "File storage, including call recordings", f"Amazon S3 {region}")
    return list(found.values())


def _analytics() -> list[InUse]:
    if settings.GOOGLE_ANALYTICS_MEASUREMENT_ID:
        return [InUse("analytics:google-analytics", "Website analytics, with consent", "Google Analytics 4")]
    return []


def _language_model() -> list[InUse]:
    url = settings.CONVERSATION_LLM_URL
    if not url or urlsplit(url).hostname in LOCAL_HOSTS:
        return []
    return [InUse("llm:chat-completions", "Language model for call conversations", urlsplit(url).hostname or url)]


@dataclass(frozen=True)
class PublicEntry:
    """A line of the public sub-processors page: a register row, or a provider in use the register lacks."""

    service: str
    role: str
    processor: SubProcessor | None

    @property
    def missing(self) -> bool:
        return self.processor is None


def public_subprocessors() -> list[PublicEntry]:
    """Every provider in use, and every declared one the configuration cannot see (hosting)."""
    in_use = {s.service: s for s in services_in_use()}
    rows = {p.service: p for p in SubProcessor.objects.all()}
    derivable = derivable_services()
    entries = [PublicEntry(s.service, s.role, rows.get(s.service)) for s in in_use.values()]
    entries += [
        PublicEntry(p.service, p.purpose, p) for p in rows.values() if p.service not in in_use and p.service not in derivable
    ]
    return sorted(entries, key=lambda e: (e.missing, e.processor.name if e.processor else e.role))


def derivable_services() -> set[str]:
    """Services whose use the settings decide: a register row for one that is off is not in use."""
    return {
        "telephony:twilio",
        "email:smtp",
        "storage:s3",
        "storage:s3-compatible",
        "analytics:google-analytics",
        "llm:chat-completions",
    }


def unregistered_services() -> list[InUse]:
    """Providers the configuration uses with no row in the register: staff must add them."""
    registered = set(SubProcessor.objects.values_list("service", flat=True))
    return [s for s in services_in_use() if s.service not in registered]


# --- Writes -----------------------------------------------------------------------------------


def _changed_fields(obj, form_changed: list[str] | None) -> list[str]:
    return sorted(form_changed) if form_changed is not None else [f.name for f in obj._meta.concrete_fields]


@transaction.atomic
def processing_activity_save(*, activity: ProcessingActivity, actor, changed=None, request=None) -> ProcessingActivity:
    activity.full_clean()
    activity.save()
    audit.record(
        events.PROCESSING_ACTIVITY_SAVED, request=request, actor=actor, target=activity, details={"fields": changed or []}
    )
    return activity


def ropa_exported(*, request, rows: int) -> None:
    audit.record(events.RECORDS_OF_PROCESSING_EXPORTED, request=request, details={"rows": rows})


@transaction.atomic
def subprocessor_save(*, processor: SubProcessor, actor, changed=None, request=None) -> SubProcessor:
    processor.full_clean()
    processor.save()
    audit.record(events.SUBPROCESSOR_SAVED, request=request, actor=actor, target=processor, details={"fields": changed or []})
    return processor


@transaction.atomic
def subprocessor_remove(*, processor: SubProcessor, actor, request=None) -> None:
    if processor.service in {s.service for s in services_in_use()}:
        raise ValidationError(f"{processor} is in use by this configuration: it cannot leave the register.")
    audit.record(
        events.SUBPROCESSOR_REMOVED, request=request, actor=actor, target=processor, details={"service": processor.service}
    )
    processor.delete()


@transaction.atomic
def disclosure_record(*, disclosure: Disclosure, actor, request=None) -> Disclosure:
    """Log a request from a regulator or the police as it arrives (P21)."""
    if not disclosure.legal_basis.strip():
        raise ValidationError({"legal_basis": "Record the legal basis they rely on."})
    disclosure.created_by = disclosure.created_by or actor
    disclosure.full_clean()
    disclosure.save()
    audit.record(
        events.DISCLOSURE_RECORDED, request=request, actor=actor, target=disclosure, details={"authority": disclosure.authority}
    )
    return disclosure


@transaction.atomic
def disclosure_decide(*, disclosure: Disclosure, disclose: bool, note: str, actor, request=None) -> Disclosure:
    """Approve and record the hand-over, or refuse; who decided is kept (P21)."""
    if disclosure.status != Disclosure.Status.REQUESTED:
        raise ValidationError(f"{disclosure} has already been decided.")
    if not actor.has_perm("compliance.approve_disclosure"):
        raise ValidationError("Only a compliance officer or the DPO may approve or refuse a disclosure.")
    if not note.strip():
        raise ValidationError({"decision_note": "Record why: what was checked, and what was (or was not) handed over."})
    disclosure.status = Disclosure.Status.DISCLOSED if disclose else Disclosure.Status.REFUSED
    disclosure.disclosed_at = timezone.now() if disclose else None
    disclosure.approved_by, disclosure.decision_note = actor, note
    disclosure.save(update_fields=["status", "disclosed_at", "approved_by", "decision_note"])
    audit.record(
        events.DISCLOSURE_DECIDED, request=request, actor=actor, target=disclosure, details={"status": disclosure.status}
    )
    return disclosure


def open_disclosures():
    return Disclosure.objects.filter(status=Disclosure.Status.REQUESTED).order_by("requested_at")


@transaction.atomic
def training_record(*, record: TrainingRecord, actor, request=None) -> TrainingRecord:
    """Record completed data-protection training for a staff member (P27)."""
    if not record.staff_user.is_staff:
        raise ValidationError({"staff_user": "Training is recorded for NextSupport staff only."})
    if record.completed_on > timezone.localdate():
        raise ValidationError({"completed_on": "Training cannot be completed in the future."})
    record.recorded_by = actor
    record.save()
    audit.record(
        events.TRAINING_RECORDED,
        request=request,
        actor=actor,
        target=record,
        details={"staff_user_id": record.staff_user_id, "completed_on": record.completed_on},
    )
    return record


TRAINING_VALID_FOR = datetime.timedelta(days=365)


def staff_training_overdue(today: datetime.date | None = None) -> list[dict]:
    """Active staff whose last data-protection training is over 12 months old, or who have none."""
    from django.contrib.auth import get_user_model
    from django.db.models import Max

    today = today or timezone.localdate()
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("email")
    last = dict(TrainingRecord.objects.values_list("staff_user_id").annotate(last=Max("completed_on")))
    cutoff = today - TRAINING_VALID_FOR
    return [{"user": u, "last": last.get(u.pk)} for u in staff if last.get(u.pk) is None or last[u.pk] < cutoff]
