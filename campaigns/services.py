"""Writes for campaigns, their scripts and caller IDs: every change goes through one of these.

The portal and the API call the same service for each thing a client means to
do (create, edit, save a script, launch, pause, resume, cancel), and each
service checks everything itself: a refused change raises ValidationError
naming the field and why, and changes nothing. State changes are audited.
What happens on the line is in `campaigns.calls`.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.selectors import launch_blockers
from consumers import services as consumer_services
from consumers.models import ContactList, ListMembership
from consumers.selectors import list_unusable_reasons, with_usability
from nextsupport import audit

from . import calling_window, events, script, telephony
from .callbacks import url_for
from .conversation import guardrails
from .models import CallerId, CallingLimit, Campaign, CampaignContact, GateTally, ScriptVersion
from .numbers import returnable_uk_number
from .telephony.base import ProviderError

# P17: the lawful bases each purpose may rest on. PECR makes consent the only
# basis for automated marketing calls; a support follow-up rests on the
# customer's contract or the client's legitimate interests.
LAWFUL_BASES = {
    Campaign.Purpose.SUPPORT: (Campaign.LawfulBasis.CONTRACT, Campaign.LawfulBasis.LEGITIMATE_INTERESTS),
    Campaign.Purpose.MARKETING: (Campaign.LawfulBasis.CONSENT,),
}
# A list's purpose must be the campaign's (P05: data used only for what it was supplied for).
LIST_PURPOSE = {Campaign.Purpose.SUPPORT: ContactList.Purpose.SERVICE, Campaign.Purpose.MARKETING: ContactList.Purpose.MARKETING}
# Support calls may use a wider day than marketing, but never the night.
SUPPORT_EARLIEST, SUPPORT_LATEST = datetime.time(7, 0), datetime.time(22, 0)
AUTOMATED_DECISIONS_REASON_MIN = 20
# What a campaign's settings may be changed to while it runs; everything else needs a pause.
EDITABLE_WHILE_RUNNING = frozenset({"name", "max_concurrent_calls", "end_date"})
CAMPAIGN_FIELDS = (
    "name",
    "purpose",
    "lawful_basis",
    "caller_id",
    "transfer_number",
    "timezone",
    "calling_days",
    "window_start",
    "window_end",
    "call_on_bank_holidays",
    "start_date",
    "end_date",
    "max_attempts",
    "retry_spacing_minutes",
    "max_concurrent_calls",
    "record_calls",
)


# --- Caller IDs ----------------------------------------------------------------------------


@transaction.atomic
def caller_id_request(*, organisation, number: str, label: str, by, request=None) -> CallerId:
    """Start proving the organisation controls `number`: the provider rings it and someone keys in the code shown."""
    e164 = returnable_uk_number(number)
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Give the number a name, e.g. 'Customer service line'."})
    existing = CallerId.objects.filter(organisation=organisation, number_index__matches=e164).first()
    if existing and existing.status != CallerId.Status.FAILED:
        raise ValidationError(
            {"number": f"This number is already {existing.get_status_display().lower()} as '{existing.label}'."}
        )
    if existing:
        existing.delete()
    provider = telephony.provider()
    caller_id = CallerId.objects.create(
        organisation=organisation, number=e164, label=label[:100], provider=provider.name, requested_by=by
    )
    try:
        started = provider.validate_caller_id(
            e164, friendly_name=label[:64], status_callback=url_for("caller-id-status", caller_id=caller_id.pk)
        )
    except ProviderError as exc:
        raise ValidationError({"number": f"The telephone network refused to verify this number: {exc}"}) from exc
    caller_id.validation_code, caller_id.provider_reference = started.code, started.reference[:64]
    caller_id.save(update_fields=["validation_code", "provider_reference"])
    audit.record(events.CALLER_ID_REQUESTED, request=request, actor=by, target=caller_id)
    return caller_id


@transaction.atomic
def caller_id_verification_result(*, caller_id: CallerId, succeeded: bool, reference: str = "") -> CallerId:
    """The provider's answer to a caller-ID validation (its webhook). A repeat changes nothing."""
    caller_id = CallerId.objects.select_for_update().get(pk=caller_id.pk)
    if caller_id.status != CallerId.Status.PENDING:
        return caller_id
    if succeeded:
        caller_id.status, caller_id.verified_at = CallerId.Status.VERIFIED, timezone.now()
        caller_id.provider_reference = (reference or caller_id.provider_reference)[:64]
        caller_id.validation_code = ""
    else:
        caller_id.status = CallerId.Status.FAILED
        caller_id.failure_reason = "The code was not keyed in on the verification call."
    caller_id.save()
    audit.record(events.CALLER_ID_VERIFIED if succeeded else events.CALLER_ID_FAILED, target=caller_id)
    return caller_id


@transaction.atomic
def caller_id_remove(*, caller_id: CallerId, by, request=None) -> None:
    in_use = caller_id.campaigns.filter(state__in=[Campaign.State.SCHEDULED, Campaign.State.RUNNING, Campaign.State.PAUSED])
    if in_use.exists():
        raise ValidationError(f"'{caller_id.label}' is the caller ID of a campaign that has not ended: {in_use.first()}.")
    audit.record(events.CALLER_ID_REMOVED, request=request, actor=by, target=caller_id)
    caller_id.delete()


# --- Campaigns -----------------------------------------------------------------------------


def _check_window(campaign: Campaign, errors: dict) -> None:
    days = campaign.calling_days
    if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        errors["calling_days"] = "Choose at least one day of the week."
    if campaign.window_start >= campaign.window_end:
        errors["window_end"] = "The calling window must end after it starts."
    earliest, latest = (
        (calling_window.MARKETING_EARLIEST, calling_window.MARKETING_LATEST)
        if campaign.is_marketing
        else (SUPPORT_EARLIEST, SUPPORT_LATEST)
    )
    kind = "Marketing calls" if campaign.is_marketing else "Calls"
    if campaign.window_start < earliest:
        errors["window_start"] = f"{kind} may not start before {earliest:%H:%M} in the person's local time."
    if campaign.window_end > latest:
        errors["window_end"] = f"{kind} may not go on after {latest:%H:%M} in the person's local time."
    if calling_window.zone(campaign.timezone).key != campaign.timezone:
        errors["timezone"] = f"'{campaign.timezone}' is not a time zone we know, such as Europe/London."


def _check(campaign: Campaign) -> None:
    """Everything a campaign's own settings must satisfy, in any state; ValidationError naming each field."""
    errors: dict[str, str] = {}
    if not (campaign.name or "").strip():
        errors["name"] = "Give the campaign a name."
    if campaign.purpose not in Campaign.Purpose.values:
        errors["purpose"] = "Choose customer support or marketing."
    elif campaign.lawful_basis not in LAWFUL_BASES[campaign.purpose]:
        allowed = " or ".join(Campaign.LawfulBasis(b).label.split(":")[0].split(" (")[0] for b in LAWFUL_BASES[campaign.purpose])
        errors["lawful_basis"] = f"A {Campaign.Purpose(campaign.purpose).label.lower()} campaign rests on {allowed} (P17)."
    _check_window(campaign, errors)
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        errors["end_date"] = "The end date is before the start date."
    if campaign.caller_id_id and campaign.caller_id.organisation_id != campaign.organisation_id:
        errors["caller_id"] = "Choose one of your organisation's caller IDs."
    if campaign.transfer_number:
        try:
            campaign.transfer_number = returnable_uk_number(campaign.transfer_number, what="The transfer number")
        except ValidationError as exc:
            errors["transfer_number"] = exc.messages[0]
    for name, limits in (("max_attempts", (1, 10)), ("retry_spacing_minutes", (60, 10080)), ("max_concurrent_calls", (1, 200))):
        value = getattr(campaign, name)
        if not isinstance(value, int) or not limits[0] <= value <= limits[1]:
            errors[name] = f"Choose a number from {limits[0]} to {limits[1]}."
    if errors:
        raise ValidationError(errors)


def _check_lists(campaign: Campaign, lists) -> None:
    wanted = LIST_PURPOSE.get(campaign.purpose)
    for contact_list in lists:
        if contact_list.organisation_id != campaign.organisation_id:
            raise ValidationError({"contact_lists": "Choose your organisation's own contact lists."})
        if contact_list.purpose != wanted:
            raise ValidationError(
                {
                    "contact_lists": f"'{contact_list}' is a {contact_list.get_purpose_display().lower()} list; a "
                    f"{Campaign.Purpose(campaign.purpose).label.lower()} campaign uses {ContactList.Purpose(wanted).label.lower()} lists."
                }
            )


@transaction.atomic
def campaign_create(*, organisation, by, request=None, contact_lists=(), **fields) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown campaign settings: {', '.join(sorted(unknown))}.")
    campaign = Campaign(organisation=organisation, created_by=by, **fields)
    _check(campaign)
    lists = list(contact_lists)
    _check_lists(campaign, lists)
    campaign.save()
    campaign.contact_lists.set(lists)
    audit.record(events.CAMPAIGN_CREATED, request=request, actor=by, target=campaign, details={"purpose": campaign.purpose})
    return campaign


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update(of=("self",)).select_related("organisation", "caller_id").get(pk=campaign.pk)


@transaction.atomic
def campaign_update(*, campaign: Campaign, changes: dict, by, request=None, contact_lists=None) -> Campaign:
    """Change a campaign's settings (and, when given, its lists). While it runs, only the name,
    concurrency and end date may change; everything else waits for a pause."""
    campaign = _locked(campaign)
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown campaign settings: {', '.join(sorted(unknown))}.")
    if "purpose" in changes and changes["purpose"] != campaign.purpose and campaign.state != Campaign.State.DRAFT:
        raise ValidationError({"purpose": "A launched campaign keeps its purpose; create a new campaign instead."})
    changed = sorted(name for name, value in changes.items() if getattr(campaign, name) != value)
    if contact_lists is not None and {cl.pk for cl in contact_lists} != set(campaign.contact_lists.values_list("pk", flat=True)):
        changed.append("contact_lists")
    if campaign.has_ended:
        raise ValidationError(f"The campaign is {campaign.get_state_display().lower()}: it can no longer be changed.")
    if campaign.state == Campaign.State.RUNNING and set(changed) - EDITABLE_WHILE_RUNNING:
        names = ", ".join(n.replace("_", " ") for n in sorted(set(changed) - EDITABLE_WHILE_RUNNING))
        raise ValidationError(f"Pause the campaign to change {names}.")
    for name, value in changes.items():
        setattr(campaign, name, value)
    _check(campaign)
    if contact_lists is not None:
        _check_lists(campaign, contact_lists)
    campaign.save()
    if contact_lists is not None:
        campaign.contact_lists.set(contact_lists)
    if changed:
        audit.record(events.CAMPAIGN_UPDATED, request=request, actor=by, target=campaign, details={"fields": changed})
    return campaign


@transaction.atomic
def campaign_set_automated_decisions(*, campaign: Campaign, enabled: bool, reason: str = "", by, request=None) -> Campaign:
    """P16: decisions with legal effects are off unless the client switches them on for this campaign, saying why."""
    campaign = _locked(campaign)
    reason = " ".join((reason or "").split())
    if enabled and len(reason) < AUTOMATED_DECISIONS_REASON_MIN:
        raise ValidationError(
            {
                "automated_decisions_reason": "Say why this campaign needs automated decisions, and what they decide "
                f"(at least {AUTOMATED_DECISIONS_REASON_MIN} characters)."
            }
        )
    if campaign.automated_decisions == enabled:
        return campaign
    campaign.automated_decisions = enabled
    campaign.automated_decisions_reason = reason if enabled else ""
    campaign.automated_decisions_set_by, campaign.automated_decisions_set_at = by, timezone.now()
    campaign.save()
    audit.record(events.AUTOMATED_DECISIONS_CHANGED, request=request, actor=by, target=campaign, details={"enabled": enabled})
    return campaign


@transaction.atomic
def script_version_save(*, campaign: Campaign, content, by, request=None) -> ScriptVersion:
    """Save the script as a new version; it becomes the one calls use, unless the campaign is running."""
    campaign = _locked(campaign)
    if campaign.state == Campaign.State.RUNNING:
        raise ValidationError("Pause the campaign to change its script: a running campaign keeps the version it started with.")
    if campaign.has_ended:
        raise ValidationError(f"The campaign is {campaign.get_state_display().lower()}: its script can no longer change.")
    content, _ = script_check(campaign=campaign, content=content)
    latest = campaign.script_versions.order_by("-number").first()
    if latest is not None and latest.content == content:
        return latest
    version = ScriptVersion.objects.create(
        campaign=campaign, number=(latest.number + 1) if latest else 1, content=content, created_by=by
    )
    campaign.script_version = version
    campaign.save(update_fields=["script_version", "updated_at"])
    audit.record(events.SCRIPT_SAVED, request=request, actor=by, target=campaign, details={"version": version.number})
    return version


def script_check(*, campaign: Campaign, content) -> tuple[dict, script.Script]:
    """The script as it would be stored, and as it would be spoken; ValidationError naming the place of each problem.

    The editor's "check" and saving a version ask the same question here: the
    format (campaigns.script) and what the guardrails would override.
    """
    content = script.normalised(content)
    spoken = script_for(campaign, ScriptVersion(campaign=campaign, content=content))
    problems = guardrails.script_problems(spoken)
    if problems:
        raise ValidationError(problems)
    return content, spoken


def script_for(campaign: Campaign, version: ScriptVersion | None = None) -> script.Script:
    """The script as it is spoken: the client's version inside the platform's fixed lines."""
    version = version or campaign.script_version
    if version is None:
        raise ValidationError("The campaign has no script yet.")
    callback = campaign.caller_id.number if campaign.caller_id_id else ""
    return script.parse(
        version.content,
        client_name=campaign.organisation.display_name,
        recording=campaign.record_calls,
        callback_number=callback,
    )


def launch_problems(campaign: Campaign, *, now: datetime.datetime | None = None) -> list[str]:
    """Everything that stops the campaign from launching now, in words for the client; [] when it may."""
    now = now or timezone.now()
    problems = list(launch_blockers(campaign.organisation))
    try:
        _check(campaign)
    except ValidationError as exc:
        problems += [f"{message}" for messages in exc.message_dict.values() for message in messages]
    lists = list(with_usability(campaign.contact_lists.all()))
    if not lists:
        problems.append("Choose at least one contact list.")
    for contact_list in lists:
        problems += [f"'{contact_list}': {reason}" for reason in list_unusable_reasons(contact_list, now=now)]
    if campaign.caller_id is None:
        problems.append("Choose a caller ID: calls always show a number people can call back.")
    elif not campaign.caller_id.is_verified:
        problems.append(f"The caller ID '{campaign.caller_id}' is not verified yet.")
    if not campaign.transfer_number:
        problems.append("Give a transfer number: everyone called can ask to speak to a person.")
    if campaign.script_version is None:
        problems.append("Write the call script.")
    if campaign.end_date and campaign.end_date < timezone.localdate(now, calling_window.zone(campaign.timezone)):
        problems.append("The end date has passed.")
    return problems


def _add_contacts(campaign: Campaign, now: datetime.datetime) -> int:
    """Everyone on the campaign's lists becomes a contact, once; one statement however many."""
    contacts, memberships = CampaignContact._meta.db_table, ListMembership._meta.db_table
    lists = list(campaign.contact_lists.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {contacts} (campaign_id, consumer_id, contact_list_id, state, attempts, next_attempt_at, "  # noqa: S608
            "last_decision, outcome, updated_at) "
            f"SELECT DISTINCT ON (m.consumer_id) %s, m.consumer_id, m.contact_list_id, %s, 0, %s, '', '', %s FROM {memberships} m "
            "WHERE m.contact_list_id = ANY(%s) ORDER BY m.consumer_id, m.contact_list_id "
            "ON CONFLICT (campaign_id, consumer_id) DO NOTHING",
            [campaign.pk, CampaignContact.State.WAITING, now, now, lists],
        )
        return cursor.rowcount


def _start(campaign: Campaign, now: datetime.datetime) -> None:
    today = timezone.localdate(now, calling_window.zone(campaign.timezone))
    campaign.state = Campaign.State.SCHEDULED if campaign.start_date and campaign.start_date > today else Campaign.State.RUNNING
    campaign.pause_reason = ""
    for contact_list in campaign.contact_lists.all():
        consumer_services.contact_list_claim(contact_list=contact_list)
    _add_contacts(campaign, now)


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by, request=None) -> Campaign:
    """Launch a draft: running now, or scheduled for its start date. Refused, changing nothing, while anything is missing."""
    campaign = _locked(campaign)
    if campaign.state != Campaign.State.DRAFT:
        raise ValidationError(f"The campaign is {campaign.get_state_display().lower()}, not a draft.")
    now = timezone.now()
    problems = launch_problems(campaign, now=now)
    if problems:
        raise ValidationError(problems)
    _start(campaign, now)
    campaign.launched_at = now
    campaign.save()
    audit.record(
        events.CAMPAIGN_LAUNCHED,
        request=request,
        actor=by,
        target=campaign,
        details={
            "state": campaign.state,
            "script_version": campaign.script_version.number,
            "contacts": campaign.contacts.count(),
        },
    )
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by=None, request=None, reason: str = Campaign.PauseReason.CLIENT) -> Campaign:
    """No new dials from now: the dispatcher and the last check before each dial both see the state.

    Calls already on the line finish normally; cutting them off would abandon them.
    """
    campaign = _locked(campaign)
    if campaign.state not in (Campaign.State.RUNNING, Campaign.State.SCHEDULED):
        if campaign.state == Campaign.State.PAUSED:
            return campaign
        raise ValidationError(
            f"The campaign is {campaign.get_state_display().lower()}: only a running or scheduled campaign can be paused."
        )
    campaign.state, campaign.pause_reason = Campaign.State.PAUSED, reason
    campaign.save(update_fields=["state", "pause_reason", "updated_at"])
    audit.record(events.CAMPAIGN_PAUSED, request=request, actor=by, target=campaign, details={"reason": reason})
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by, request=None) -> Campaign:
    from .selectors import abandoned_rate

    campaign = _locked(campaign)
    if campaign.state != Campaign.State.PAUSED:
        raise ValidationError(f"The campaign is {campaign.get_state_display().lower()}, not paused.")
    now = timezone.now()
    problems = launch_problems(campaign, now=now)
    if campaign.pause_reason == Campaign.PauseReason.ABANDONED_RATE:
        rate = abandoned_rate(campaign, now=now)
        if rate.rate >= rate.pause_at:
            problems.append(
                f"The abandoned-call rate over the last 24 hours is {rate.rate:.1%}; calls can resume once it is below {rate.pause_at:.1%}."
            )
    if problems:
        raise ValidationError(problems)
    _start(campaign, now)
    campaign.save()
    audit.record(events.CAMPAIGN_RESUMED, request=request, actor=by, target=campaign, details={"state": campaign.state})
    return campaign


def _release_lists(campaign: Campaign, now: datetime.datetime) -> None:
    """P30: a list no live campaign uses any more starts its consumers' 30-day clock."""
    live = (Campaign.State.SCHEDULED, Campaign.State.RUNNING, Campaign.State.PAUSED)
    for contact_list in campaign.contact_lists.all():
        if not contact_list.campaigns.filter(state__in=live).exclude(pk=campaign.pk).exists():
            consumer_services.contact_list_release(contact_list=contact_list, released_at=now)


def _end(campaign: Campaign, state: str, *, by, request, action: str, details: dict) -> Campaign:
    now = timezone.now()
    campaign.state, campaign.ended_at, campaign.pause_reason = state, now, ""
    campaign.save(update_fields=["state", "ended_at", "pause_reason", "updated_at"])
    campaign.contacts.filter(state=CampaignContact.State.WAITING).update(state=CampaignContact.State.DONE, updated_at=now)
    _release_lists(campaign, now)
    audit.record(action, request=request, actor=by, target=campaign, details=details)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by=None, request=None, reason: str = "client") -> Campaign:
    campaign = _locked(campaign)
    if campaign.has_ended:
        raise ValidationError(f"The campaign is already {campaign.get_state_display().lower()}.")
    if campaign.state == Campaign.State.DRAFT:
        raise ValidationError("A draft has not been launched: there is nothing to cancel.")
    return _end(
        campaign, Campaign.State.CANCELLED, by=by, request=request, action=events.CAMPAIGN_CANCELLED, details={"reason": reason}
    )


@transaction.atomic
def campaign_complete(*, campaign: Campaign, why: str) -> Campaign | None:
    """Every contact is done (or the end date passed): the dispatcher closes the campaign. A repeat does nothing."""
    campaign = _locked(campaign)
    if campaign.state != Campaign.State.RUNNING:
        return None
    return _end(campaign, Campaign.State.COMPLETED, by=None, request=None, action=events.CAMPAIGN_COMPLETED, details={"why": why})


@transaction.atomic
def campaign_start_scheduled(*, campaign: Campaign, now: datetime.datetime | None = None) -> Campaign | None:
    """A scheduled campaign whose start date has come starts running (the dispatcher calls this)."""
    campaign = _locked(campaign)
    now = now or timezone.now()
    today = timezone.localdate(now, calling_window.zone(campaign.timezone))
    if campaign.state != Campaign.State.SCHEDULED or (campaign.start_date and campaign.start_date > today):
        return None
    campaign.state = Campaign.State.RUNNING
    campaign.save(update_fields=["state", "updated_at"])
    audit.record(events.CAMPAIGN_STARTED, target=campaign)
    return campaign


@transaction.atomic
def campaign_slow(*, campaign: Campaign, slowed: bool) -> None:
    """The dispatcher halves a campaign's calls at once while its abandoned-call rate is high (and lifts it after)."""
    campaign = _locked(campaign)
    if bool(campaign.slowed_at) == slowed:
        return
    campaign.slowed_at = timezone.now() if slowed else None
    campaign.save(update_fields=["slowed_at", "updated_at"])
    if slowed:
        audit.record(events.CAMPAIGN_SLOWED, target=campaign)


def campaigns_stop_for_organisation(*, organisation, closed: bool) -> int:
    """A suspended organisation's campaigns pause at once; a closed one's are cancelled. Returns how many."""
    live = Campaign.objects.filter(organisation=organisation, state__in=[Campaign.State.SCHEDULED, Campaign.State.RUNNING])
    if closed:
        live = Campaign.objects.filter(
            organisation=organisation, state__in=[Campaign.State.SCHEDULED, Campaign.State.RUNNING, Campaign.State.PAUSED]
        )
    stopped = 0
    for campaign in live:
        if closed:
            campaign_cancel(campaign=campaign, reason="organisation_closed")
        else:
            campaign_pause(campaign=campaign, reason=Campaign.PauseReason.ORGANISATION)
        stopped += 1
    return stopped


def gate_tally(*, campaign_id: int, counts: dict[str, int]) -> None:
    """Add gate decisions to a campaign's tallies ({"allowed": 12, "outside_window": 3}), in one statement."""
    if not counts:
        return
    table = GateTally._meta.db_table
    rows = ", ".join(["(%s, %s, %s)"] * len(counts))
    params = [value for decision, count in counts.items() for value in (campaign_id, decision, count)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, decision, count) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT (campaign_id, decision) DO UPDATE SET count = {table}.count + EXCLUDED.count",
            params,
        )


def calling_limit_checked(*, max_concurrent_calls, reason: str) -> str:
    """The reason, tidied, if the cap and its reason may be set; ValidationError naming each field otherwise.
    The admin's form asks this first, so staff see the problem on the field."""
    errors = {}
    if not isinstance(max_concurrent_calls, int) or not 0 <= max_concurrent_calls <= 1000:
        errors["max_concurrent_calls"] = "Choose a number from 0 (no calls) to 1000."
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = "Say why this limit is set: it is kept with the limit and in the audit trail."
    elif len(reason) > 300:
        errors["reason"] = f"Keep the reason to 300 characters (it has {len(reason)})."
    if errors:
        raise ValidationError(errors)
    return reason


@transaction.atomic
def calling_limit_set(*, organisation, max_concurrent_calls: int, reason: str, by, request=None) -> CallingLimit:
    """Staff cap how many calls an organisation may have on the line at once, across its campaigns, saying why."""
    reason = calling_limit_checked(max_concurrent_calls=max_concurrent_calls, reason=reason)
    limit, _ = CallingLimit.objects.update_or_create(
        organisation=organisation, defaults={"max_concurrent_calls": max_concurrent_calls, "reason": reason, "set_by": by}
    )
    audit.record(
        events.CALLING_LIMIT_SET,
        request=request,
        actor=by,
        target=organisation,
        reason=reason,
        details={"max": max_concurrent_calls},
    )
    return limit
