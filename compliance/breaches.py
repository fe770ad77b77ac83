"""The personal-data breach register: its clocks and every change to a breach (P44-P47).

The clocks all run from the moment NextSupport became aware (`Breach.aware_at`):

    assessment    scope and risk assessed within 24 hours (P44)
    ico           reported to the ICO within 72 hours, or a recorded decision, with the reason,
                  that it is not reportable (only when the assessment found no risk) (P45)
    clients       every affected client told within 72 hours, through its security notices (P45)
    individuals   when the risk is high, the people affected told, with the guidance sent (P46).
                  The law says "without undue delay"; we hold ourselves to the same 72 hours.
    action:<id>   each containment or corrective action done by its due date (P47)

`steps(breach)` is the one place those rules live: the admin, the dashboard, the
alerts and the ICO export all read it. A step is overdue only once its due time has
passed (at exactly 24 hours the assessment is still on time).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from nextsupport import audit, mail

from . import events
from .models import Breach, BreachAction, BreachAlert, BreachClientNotice, RiskLevel

ASSESSMENT_WITHIN = datetime.timedelta(hours=24)
NOTIFICATION_WITHIN = datetime.timedelta(hours=72)
_REFERENCE_LOCK = 0x4E53_4252  # "NSBR"
logger = logging.getLogger(__name__)

# The ICO's breach report form asks in these terms.
ICO_DATA_CATEGORIES = {
    "basic_identifiers": "Basic personal identifiers, e.g. name, contact details",
    "identification": "Identification data, e.g. usernames, passwords",
    "financial": "Economic and financial data, e.g. credit card numbers, bank details",
    "official_documents": "Official documents, e.g. driving licences",
    "location": "Location data",
    "genetic_biometric": "Genetic or biometric data",
    "criminal": "Criminal convictions, offences",
    "health": "Health data",
    "special_other": "Other special category data (racial or ethnic origin, beliefs, sex life, and so on)",
    "voice": "Call recordings and transcripts",
    "not_known": "Not yet known",
    "other": "Other (see the details)",
}
ICO_PEOPLE_CATEGORIES = {
    "customers": "Customers or prospective customers (our clients' consumers)",
    "users": "Users (client portal users)",
    "employees": "Employees",
    "visitors": "Website visitors",
    "children": "Children",
    "vulnerable_adults": "Vulnerable adults",
    "not_known": "Not yet known",
    "other": "Other (see the details)",
}


class State:
    DONE = "done"
    DONE_LATE = "done_late"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    due_at: datetime.datetime
    done_at: datetime.datetime | None = None

    def state(self, now: datetime.datetime | None = None) -> str:
        if self.done_at is not None:
            return State.DONE if self.done_at <= self.due_at else State.DONE_LATE
        return State.OVERDUE if (now or timezone.now()) > self.due_at else State.DUE

    def is_open(self) -> bool:
        return self.done_at is None


def steps(breach: Breach) -> list[Step]:
    """Every step this breach calls for, with its due time and when it was done."""
    notices = list(breach.client_notices.all())
    found = [
        Step("assessment", "Assess the scope and the risk", breach.aware_at + ASSESSMENT_WITHIN, breach.assessed_at),
        Step("ico", "Report to the ICO, or record why not", breach.aware_at + NOTIFICATION_WITHIN, breach.ico_decided_at),
    ]
    if notices:
        told = [n.notified_at for n in notices]
        done = max(told) if all(told) else None
        found.append(Step("clients", "Tell the affected clients", breach.aware_at + NOTIFICATION_WITHIN, done))
    if breach.risk_level == RiskLevel.HIGH:
        found.append(
            Step(
                "individuals",
                "Tell the people affected, with guidance",
                breach.aware_at + NOTIFICATION_WITHIN,
                breach.individuals_informed_at,
            )
        )
    for action in breach.actions.all():
        due = _end_of_day(action.due_on)
        found.append(
            Step(f"action:{action.pk}", f"{action.get_kind_display()} action: {action.description[:80]}", due, action.done_at)
        )
    return found


def _end_of_day(day: datetime.date) -> datetime.datetime:
    """An action due "on" a day is on time until that day ends, UK time."""
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start, timezone.get_default_timezone())


def overdue_steps(breach: Breach, now: datetime.datetime | None = None) -> list[Step]:
    return [step for step in steps(breach) if step.state(now) == State.OVERDUE]


# --- Writes -----------------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    prefix = f"BR-{year}-"
    last = Breach.objects.filter(reference__startswith=prefix).order_by("-reference").values_list("reference", flat=True)
    number = int(last[0].removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:03d}"


def _check_categories(data_categories, people_categories) -> None:
    errors = {}
    unknown = set(data_categories) - set(ICO_DATA_CATEGORIES)
    if unknown:
        errors["data_categories"] = f"Unknown data categories: {', '.join(sorted(unknown))}."
    unknown = set(people_categories) - set(ICO_PEOPLE_CATEGORIES)
    if unknown:
        errors["people_categories"] = f"Unknown categories of people: {', '.join(sorted(unknown))}."
    if errors:
        raise ValidationError(errors)


def _check_times(breach: Breach, now: datetime.datetime) -> None:
    if breach.aware_at > now:
        raise ValidationError({"aware_at": "The moment we became aware cannot be in the future."})
    if breach.occurred_at and breach.occurred_at > breach.aware_at:
        raise ValidationError({"occurred_at": "It cannot have happened after we became aware of it."})
    if breach.occurred_at and breach.occurred_until and breach.occurred_until < breach.occurred_at:
        raise ValidationError({"occurred_until": "It cannot have ended before it started."})


@transaction.atomic
def breach_record(*, actor, request=None, organisations=(), **fields) -> Breach:
    """Open a breach in the register; its clocks start at `aware_at`."""
    fields["reporter_email"] = fields.get("reporter_email") or None  # no address: no index either
    breach = Breach(**fields, created_by=actor)
    _check_categories(breach.data_categories, breach.people_categories)
    _check_times(breach, timezone.now())
    # One writer at a time picks the next number (the unique reference would refuse a clash anyway).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFERENCE_LOCK])
    breach.reference = _next_reference(timezone.localtime(breach.aware_at).year)
    breach.save()
    for organisation in organisations:
        BreachClientNotice.objects.create(breach=breach, organisation=organisation)
    audit.record(events.BREACH_RECORDED, request=request, actor=actor, target=breach, details=_counts(breach))
    return breach


def _counts(breach: Breach) -> dict:
    return {"reference": breach.reference, "clients": breach.client_notices.count(), "risk_level": breach.risk_level}


# Fields a change of the breach's description may touch; the steps have services of their own.
EDITABLE = (
    "title",
    "occurred_at",
    "occurred_until",
    "aware_at",
    "reported_by",
    "reporter_email",
    "description",
    "discovered_how",
    "cyber_incident",
    "data_categories",
    "data_categories_detail",
    "people_categories",
    "people_categories_detail",
    "approx_records",
    "approx_people",
    "likely_consequences",
    "staff_trained",
    "others_told",
)


@transaction.atomic
def breach_update(*, breach: Breach, changes: dict, actor, request=None) -> Breach:
    """Change what the register says about a breach; the audit event names the fields changed."""
    if "reporter_email" in changes:
        changes = {**changes, "reporter_email": changes["reporter_email"] or None}
    refused = set(changes) - set(EDITABLE)
    if refused:
        raise ValidationError(f"These are set by their own step, not edited: {', '.join(sorted(refused))}.")
    changed = sorted(name for name, value in changes.items() if getattr(breach, name) != value)
    if not changed:
        return breach
    for name in changed:
        setattr(breach, name, changes[name])
    _check_categories(breach.data_categories, breach.people_categories)
    _check_times(breach, timezone.now())
    breach.save(update_fields=[*changed, *(["reporter_email_index"] if "reporter_email" in changed else [])])
    audit.record(events.BREACH_UPDATED, request=request, actor=actor, target=breach, details={"fields": changed})
    return breach


@transaction.atomic
def breach_set_affected_clients(*, breach: Breach, organisations, actor, request=None) -> None:
    """Which clients' data is involved. A client already told stays on the list: that notice happened."""
    wanted = {o.pk for o in organisations}
    current = set(breach.client_notices.values_list("organisation_id", flat=True))
    told = set(breach.client_notices.filter(notified_at__isnull=False).values_list("organisation_id", flat=True))
    removable = (current - wanted) - told
    breach.client_notices.filter(organisation_id__in=removable).delete()
    for organisation_id in wanted - current:
        BreachClientNotice.objects.create(breach=breach, organisation_id=organisation_id)
    if removable or wanted - current:
        details = {
            "added": sorted(wanted - current),
            "removed": sorted(removable),
            "kept_as_told": sorted((current - wanted) & told),
        }
        audit.record(events.BREACH_UPDATED, request=request, actor=actor, target=breach, details=details)


@transaction.atomic
def breach_assess(*, breach: Breach, risk_level: str, assessment: str, actor, request=None) -> Breach:
    """Record the scope and risk assessment (P44). A later re-assessment keeps the first time it was done."""
    if risk_level not in (RiskLevel.NONE, RiskLevel.RISK, RiskLevel.HIGH):
        raise ValidationError({"risk_level": "Choose no risk, a risk, or a high risk."})
    if not assessment.strip():
        raise ValidationError({"assessment": "Say why: the assessment is what the ICO asks to see."})
    breach.risk_level, breach.assessment = risk_level, assessment
    breach.assessed_at = breach.assessed_at or timezone.now()
    breach.assessed_by = breach.assessed_by or actor
    breach.save(update_fields=["risk_level", "assessment", "assessed_at", "assessed_by"])
    audit.record(events.BREACH_ASSESSED, request=request, actor=actor, target=breach, details={"risk_level": risk_level})
    return breach


def _late(breach: Breach, at: datetime.datetime) -> bool:
    return at > breach.aware_at + NOTIFICATION_WITHIN


@transaction.atomic
def breach_ico_notified(
    *, breach: Breach, ico_reference: str, actor, notified_at=None, delay_reason: str = "", request=None
) -> Breach:
    """Record that the breach was reported to the ICO (P45); after 72 hours the reason for the delay is required."""
    notified_at = notified_at or timezone.now()
    if breach.ico_decided_at:
        raise ValidationError("The ICO decision is already recorded.")
    if not ico_reference.strip():
        raise ValidationError({"ico_reference": "Enter the case reference the ICO gave."})
    if _late(breach, notified_at) and not delay_reason.strip():
        raise ValidationError({"delay_reason": "It was reported after 72 hours: the ICO asks why, so say why."})
    breach.ico_decision, breach.ico_decided_at = Breach.IcoDecision.NOTIFIED, notified_at
    breach.ico_reference, breach.ico_delay_reason = ico_reference.strip(), delay_reason
    breach.save(update_fields=["ico_decision", "ico_decided_at", "ico_reference", "ico_delay_reason"])
    audit.record(events.BREACH_ICO_DECIDED, request=request, actor=actor, target=breach, details={"decision": "notified"})
    return breach


@transaction.atomic
def breach_ico_not_required(*, breach: Breach, reason: str, actor, request=None) -> Breach:
    """Record the decision not to report (P45): only once assessed as unlikely to risk anyone's rights."""
    if breach.ico_decided_at:
        raise ValidationError("The ICO decision is already recorded.")
    if breach.risk_level != RiskLevel.NONE:
        raise ValidationError(
            "Only a breach assessed as unlikely to result in a risk to people may go unreported: assess it first."
        )
    if not reason.strip():
        raise ValidationError({"reason": "Record why it need not be reported."})
    breach.ico_decision, breach.ico_decided_at, breach.ico_decision_reason = (
        Breach.IcoDecision.NOT_REQUIRED,
        timezone.now(),
        reason,
    )
    breach.save(update_fields=["ico_decision", "ico_decided_at", "ico_decision_reason"])
    audit.record(events.BREACH_ICO_DECIDED, request=request, actor=actor, target=breach, details={"decision": "not_required"})
    return breach


@transaction.atomic
def breach_notify_clients(*, breach: Breach, subject: str, body: str, actor, request=None) -> int:
    """Tell every affected client not yet told, through its security notices (accounts, send-once) (P45)."""
    from accounts import services as accounts_services
    from accounts.selectors import Topic

    if not subject.strip() or not body.strip():
        raise ValidationError("Write the subject and the message the clients will receive.")
    pending = list(breach.client_notices.select_for_update().filter(notified_at__isnull=True).select_related("organisation"))
    for notice in pending:
        accounts_services.organisation_notify(organisation=notice.organisation, topic=Topic.SECURITY, subject=subject, body=body)
        notice.notified_at, notice.notice_key = timezone.now(), f"breach:{breach.pk}"
        notice.save(update_fields=["notified_at", "notice_key"])
    if pending:
        audit.record(
            events.BREACH_CLIENTS_NOTIFIED,
            request=request,
            actor=actor,
            target=breach,
            details={"organisations": [n.organisation_id for n in pending]},
        )
    return len(pending)


@transaction.atomic
def breach_inform_individuals(*, breach: Breach, how: str, guidance: str, actor, informed_at=None, request=None) -> Breach:
    """Record that the people affected were told, how, and the guidance they were given (P46)."""
    if breach.individuals_informed_at:
        raise ValidationError("The people affected are already recorded as informed.")
    if not how.strip():
        raise ValidationError({"how": "Say how they were told (e-mail, letter, SMS, the client told them)."})
    if not guidance.strip():
        raise ValidationError({"guidance": "Record the guidance they were given: what they can do to protect themselves."})
    breach.individuals_informed_at = informed_at or timezone.now()
    breach.individuals_informed_how, breach.individuals_guidance = how, guidance
    breach.save(update_fields=["individuals_informed_at", "individuals_informed_how", "individuals_guidance"])
    audit.record(events.BREACH_INDIVIDUALS_INFORMED, request=request, actor=actor, target=breach)
    return breach


@transaction.atomic
def breach_action_add(*, breach: Breach, kind: str, description: str, owner, due_on, actor, request=None) -> BreachAction:
    """A containment or corrective action with its owner and due date (P47)."""
    if not description.strip():
        raise ValidationError({"description": "Describe the action."})
    action = BreachAction.objects.create(breach=breach, kind=kind, description=description, owner=owner, due_on=due_on)
    audit.record(
        events.BREACH_ACTION_ADDED,
        request=request,
        actor=actor,
        target=breach,
        details={"action_id": action.pk, "kind": kind, "owner_id": owner.pk, "due_on": due_on},
    )
    return action


@transaction.atomic
def breach_action_done(*, action: BreachAction, outcome: str, actor, request=None) -> BreachAction:
    if action.done_at:
        return action
    if not outcome.strip():
        raise ValidationError({"outcome": "Record what was done, so the follow-up can be checked."})
    action.done_at, action.outcome = timezone.now(), outcome
    action.save(update_fields=["done_at", "outcome"])
    audit.record(events.BREACH_ACTION_DONE, request=request, actor=actor, target=action.breach, details={"action_id": action.pk})
    return action


@transaction.atomic
def breach_close(*, breach: Breach, actor, request=None) -> Breach:
    """Close a breach once every step is done."""
    open_steps = [step.label for step in steps(breach) if step.is_open()]
    if open_steps:
        raise ValidationError(f"{breach.reference} still has steps to do: {'; '.join(open_steps)}.")
    if not breach.closed_at:
        breach.closed_at = timezone.now()
        breach.save(update_fields=["closed_at"])
        audit.record(events.BREACH_CLOSED, request=request, actor=actor, target=breach)
    return breach


# --- Alerts -----------------------------------------------------------------------------------


def breach_alert_overdue(*, now: datetime.datetime | None = None) -> int:
    """E-mail the compliance team once per breach and overdue step; how many alerts left now.

    Safe to run twice or on two workers: each alert is a row claimed by send_once.
    A mail server that fails leaves the alert unclaimed, for the next run.
    """
    now = now or timezone.now()
    sent = 0
    for breach in Breach.objects.filter(closed_at__isnull=True).prefetch_related("client_notices", "actions"):
        for step in overdue_steps(breach, now):
            alert, _ = BreachAlert.objects.get_or_create(breach=breach, step=step.key)
            try:
                sent += _send_alert(alert, breach, step)
            except Exception:
                # send_once recorded the kind of error on the alert row; the next run tries again.
                logger.warning("Alert for %s step %s not sent; will retry.", breach.reference, step.key, exc_info=True)
    return sent


def _send_alert(alert: BreachAlert, breach: Breach, step: Step) -> int:
    def send():
        body = render_to_string(
            "compliance/email/breach_step_overdue.txt",
            {"breach": breach, "step": step, "link": mail.absolute(f"/admin/compliance/breach/{breach.pk}/change/")},
        )
        mail.send(
            to=settings.COMPLIANCE_EMAIL, subject=f"{mail.SUBJECT_PREFIX}overdue: {breach.reference}, {step.label}", body=body
        )

    if not mail.send_once(BreachAlert.objects.filter(pk=alert.pk), send=send):
        return 0
    audit.record(events.BREACH_ALERT_SENT, actor_label="task:breach_alerts", target=breach, details={"step": step.key})
    return 1


# --- The ICO's report -------------------------------------------------------------------------


def ico_report(breach: Breach, now: datetime.datetime | None = None) -> dict:
    """The answers the ICO's personal data breach report form asks for, from the register.

    Never the personal data itself (the ICO asks for none): counts, categories, descriptions.
    """
    actions = list(breach.actions.all())
    reported_at = breach.ico_decided_at if breach.ico_decision == Breach.IcoDecision.NOTIFIED else None
    hours = lambda at: round((at - breach.aware_at).total_seconds() / 3600, 1) if at else None  # noqa: E731
    return {
        "report_type": "follow-up" if breach.ico_reference else "initial",
        "ico_case_reference": breach.ico_reference,
        "organisation": {
            "name": settings.BREACH_REPORT_ORGANISATION,
            "ico_registration_number": settings.ICO_REGISTRATION_NUMBER,
            "data_protection_contact": settings.DATA_PROTECTION_CONTACT,
            "contact_email": settings.COMPLIANCE_EMAIL,
        },
        "our_reference": breach.reference,
        "what_happened": breach.description,
        "how_we_found_out": breach.discovered_how,
        "cyber_incident": breach.get_cyber_incident_display(),
        "when_it_happened": _iso(breach.occurred_at),
        "when_it_ended": _iso(breach.occurred_until),
        "when_we_discovered_it": _iso(breach.aware_at),
        "when_reported_to_ico": _iso(reported_at),
        "hours_from_awareness_to_report": hours(reported_at),
        "reason_for_delay": breach.ico_delay_reason,
        "categories_of_personal_data": [ICO_DATA_CATEGORIES[c] for c in breach.data_categories],
        "categories_of_personal_data_detail": breach.data_categories_detail,
        "approximate_number_of_records": breach.approx_records,
        "categories_of_people": [ICO_PEOPLE_CATEGORIES[c] for c in breach.people_categories],
        "categories_of_people_detail": breach.people_categories_detail,
        "approximate_number_of_people": breach.approx_people,
        "likely_consequences": breach.likely_consequences,
        "risk_assessment": {"level": breach.get_risk_level_display(), "reasoning": breach.assessment},
        "staff_trained_in_last_two_years": breach.get_staff_trained_display(),
        "measures_taken_or_proposed": [_action(a) for a in actions],
        "people_affected_told": _iso(breach.individuals_informed_at),
        "how_people_were_told": breach.individuals_informed_how,
        "guidance_given_to_people": breach.individuals_guidance,
        "clients_told": [
            {"client": n.organisation.legal_name, "told_at": _iso(n.notified_at)}
            for n in breach.client_notices.select_related("organisation")
        ],
        "other_organisations_told": breach.others_told,
        "steps": [
            {"step": s.label, "due": _iso(s.due_at), "done": _iso(s.done_at), "state": s.state(now)} for s in steps(breach)
        ],
    }


def _action(action: BreachAction) -> dict:
    return {
        "kind": action.get_kind_display(),
        "measure": action.description,
        "due_on": action.due_on.isoformat(),
        "done_at": _iso(action.done_at),
        "outcome": action.outcome,
    }


def _iso(at: datetime.datetime | None) -> str | None:
    return at.astimezone(datetime.UTC).isoformat() if at else None


def ico_report_rows(breach: Breach) -> list[tuple[str, str]]:
    """The report as question/answer rows, for the CSV download."""
    rows = []
    for key, value in ico_report(breach).items():
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", "" if v is None else str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            rows += [(f"{key}[{i}]", _flat(item)) for i, item in enumerate(value)] or [(key, "")]
        else:
            rows.append((key, "" if value is None else str(value)))
    return rows


def _flat(item) -> str:
    if isinstance(item, dict):
        return "; ".join(f"{k}: {'' if v is None else v}" for k, v in item.items())
    return str(item)
