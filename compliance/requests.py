"""Writes for data-subject requests (P35-P43): intake, verification, the clock, actions, forwarding, answers.

How a request flows (docs/compliance.md, "## Requests"):

    request_submit / request_enter      received; a one-time link and code goes to each identifier given
    challenge_verify_token / _code      every identifier proved: in progress, the 30-day clock starts
    request_process (task)              discovery, then NextSupport's own part of the action; each client's
                                        part is forwarded to its inbox (portal, API, webhook) (P43)
    part_answer                         the client: done, refused, or "NextSupport, do it on our data"
    request_complete                    every controller has answered: the requester is told, with receipts

Nothing the requester sees before verification depends on what we hold, and
discovery only runs after it, the same way whether anything is found or not:
a "nothing held" answer cannot be told apart from any other, in content or time.
"""

import datetime
import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from nextsupport import audit, crypto, mail, privacy

from . import deadlines, events
from .models import DataSubjectRequest, RequestEvent, RequestKind, RequestMessage, RequestPart, VerificationChallenge

State = DataSubjectRequest.State
CHALLENGE_LIFETIME = datetime.timedelta(minutes=30)
MAX_CODE_ATTEMPTS = 5
_CHALLENGE_SALT = "compliance.requests.verification"
_PACKAGE_AAD = b"compliance.request-package"
# The kinds whose answer is a copy of the data; those NextSupport can carry out on a client's data.
COPY_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY)
CHANGING_KINDS = (RequestKind.ERASURE, RequestKind.RESTRICTION, RequestKind.OBJECTION, RequestKind.WITHDRAW_CONSENT)
_COPY_GIVEN = "NextSupport has already given the person a copy of what it holds for you: answer done, or refused with the reason."
_NOT_DELEGABLE = {
    RequestKind.ACCESS: _COPY_GIVEN,
    RequestKind.PORTABILITY: _COPY_GIVEN,
    RequestKind.RECTIFICATION: "Only you know the right values: correct the person's details under Consumers, then answer done.",
}


class VerificationError(Exception):
    """Why a link or code did not verify, in words for the requester."""


# --- Intake ---------------------------------------------------------------------------------------


def _check_identifiers(phone: str | None, email: str | None) -> None:
    if not (phone or email):
        raise ValidationError({"phone": "Give a phone number, an e-mail address or both, so we can find your data."})


@transaction.atomic
def request_submit(
    *,
    kind: str,
    phone: str | None,
    email: str | None,
    name: str = "",
    details: str = "",
    cookie_consent_id: str = "",
    request=None,
) -> DataSubjectRequest:
    """A request from the public form: stored, and a one-time link and code sent to each identifier.

    `cookie_consent_id` is the id of the cookie choices of the browser it came from (from our sealed
    cookie), so a request also covers the visitor's cookie-consent records.
    """
    dsr = _create(kind=kind, phone=phone, email=email, name=name, details=details, channel=DataSubjectRequest.Channel.WEB)
    if cookie_consent_id:
        dsr.cookie_consent_id = cookie_consent_id
        dsr.save(update_fields=["cookie_consent_id"])
    audit.record(events.REQUEST_RECEIVED, request=request, target=dsr, details={"kind": kind, "channel": dsr.channel})
    challenges_issue(dsr=dsr)
    return dsr


@transaction.atomic
def request_enter(
    *,
    kind: str,
    channel: str,
    phone: str | None,
    email: str | None,
    actor,
    name: str = "",
    details: str = "",
    received_at: datetime.datetime | None = None,
    verified_by: str = "",
    request=None,
) -> DataSubjectRequest:
    """A request that came by e-mail, phone or post, entered by staff.

    `verified_by` says how staff already confirmed who the person is (e.g. "replied from the address on
    file"); without it the person is sent the same link and code as from the form.
    """
    dsr = _create(kind=kind, phone=phone, email=email, name=name, details=details, channel=channel, received_at=received_at)
    audit.record(events.REQUEST_RECEIVED, request=request, actor=actor, target=dsr, details={"kind": kind, "channel": channel})
    _step(dsr, "Received by staff", actor=actor)
    if verified_by.strip():
        _mark_verified(dsr, how=verified_by.strip(), actor=actor, request=request)
    else:
        challenges_issue(dsr=dsr)
    return dsr


def _create(*, kind, phone, email, name, details, channel, received_at=None) -> DataSubjectRequest:
    _check_identifiers(phone, email)
    if kind not in RequestKind.values:
        raise ValidationError({"kind": "Choose what you would like us to do."})
    dsr = DataSubjectRequest.objects.create(
        kind=kind,
        channel=channel,
        phone=phone or None,
        email=email or None,
        name=name or None,
        details=details or None,
        received_at=received_at or timezone.now(),
    )
    dsr.reference = f"DSR-{deadlines.uk_date(dsr.received_at).year}-{dsr.pk:06d}"
    dsr.save(update_fields=["reference"])
    _step(dsr, f"Received ({dsr.get_channel_display()}): {dsr.get_kind_display()}")
    return dsr


def _step(dsr: DataSubjectRequest, action: str, *, actor=None, note: str = "") -> RequestEvent:
    return RequestEvent.objects.create(request=dsr, action=action[:60], note=note or None, actor=actor)


# --- Verification ---------------------------------------------------------------------------------


def _secret(challenge: VerificationChallenge, what: str) -> str:
    # Derived, never stored: a copy of the database alone cannot verify anyone (like webhook secrets).
    return salted_hmac(_CHALLENGE_SALT, f"{what}:{challenge.pk}:{challenge.nonce}", algorithm="sha256").hexdigest()


def challenge_token(challenge: VerificationChallenge) -> str:
    return _secret(challenge, "token")


def challenge_code(challenge: VerificationChallenge) -> str:
    return f"{int(_secret(challenge, 'code'), 16) % 10**6:06d}"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def challenges_issue(*, dsr: DataSubjectRequest, again: bool = False) -> list[VerificationChallenge]:
    """A new link and code for each identifier of the request not yet proved; earlier ones stop working.

    `again`: the requester comes back to a verified request (its receipt, its copy): every identifier
    gets a fresh code, and any one of them proves it is them.
    """
    from .tasks import send_request_challenge

    now = timezone.now()
    dsr.challenges.filter(used_at__isnull=True).update(expires_at=now)
    channels = [
        c
        for c, value in ((VerificationChallenge.Channel.EMAIL, dsr.email), (VerificationChallenge.Channel.SMS, dsr.phone))
        if value
    ]
    proved = set(dsr.challenges.filter(used_at__isnull=False).values_list("channel", flat=True))
    issued = []
    for channel in channels:
        if channel in proved and not again:
            continue
        challenge = VerificationChallenge.objects.create(
            request=dsr,
            channel=channel,
            nonce=secrets.token_hex(32),
            token_digest=uuid.uuid4().hex,
            expires_at=now + CHALLENGE_LIFETIME,
        )
        challenge.token_digest = _token_digest(challenge_token(challenge))
        challenge.save(update_fields=["token_digest"])
        send_request_challenge.delay_on_commit(challenge.pk)
        issued.append(challenge)
    DataSubjectRequest.objects.filter(pk=dsr.pk, state__in=[State.RECEIVED, State.AWAITING_VERIFICATION]).update(
        state=State.AWAITING_VERIFICATION
    )
    dsr.refresh_from_db(fields=["state"])
    if issued and not again:
        _step(dsr, "Verification sent: " + ", ".join(c.get_channel_display() for c in issued))
        audit.record(
            events.REQUEST_VERIFICATION_SENT, actor_label="system", target=dsr, details={"channels": [c.channel for c in issued]}
        )
    return issued


def challenge_send(*, challenge_id: int) -> bool:
    """Send a challenge's link and code once: by e-mail (nextsupport.mail) or by text (the telephony provider)."""
    from campaigns.telephony import provider

    def send():
        challenge = VerificationChallenge.objects.select_related("request").get(pk=challenge_id)
        dsr, code = challenge.request, challenge_code(challenge)
        if challenge.channel == VerificationChallenge.Channel.SMS:
            provider().send_sms(
                dsr.phone, f"Your NextSupport code for request {dsr.reference} is {code}. It works for 30 minutes."
            )
            return
        link = mail.absolute(f"/your-rights/verify/{challenge_token(challenge)}/")
        subject, body = mail.render("compliance/email/request_verify", {"dsr": dsr, "code": code, "link": link, "minutes": 30})
        mail.send(to=dsr.email, subject=subject, body=body)

    return mail.send_once(VerificationChallenge.objects.filter(pk=challenge_id), send=send)


def _usable(challenge: VerificationChallenge | None) -> VerificationChallenge:
    if challenge is None:
        raise VerificationError("This link is not one we sent, or it was copied incompletely. Check the link in our e-mail.")
    if challenge.used_at:
        raise VerificationError(
            "This link or code has already been used. If you still need to confirm it is you, ask for a new code."
        )
    if challenge.expires_at <= timezone.now():
        raise VerificationError("This link or code has expired: they work for 30 minutes. Ask for a new code below.")
    if challenge.failed_attempts >= MAX_CODE_ATTEMPTS:
        raise VerificationError("A wrong code was entered too many times, so this code no longer works. Ask for a new code.")
    return challenge


@transaction.atomic
def challenge_verify_token(*, token: str, request=None) -> DataSubjectRequest:
    """The link in the e-mail was followed (and its page's button pressed): that address is proved."""
    challenge = VerificationChallenge.objects.select_for_update().filter(token_digest=_token_digest(token)).first()
    return _prove(_usable(challenge), request=request)


class _WrongCode(Exception):
    def __init__(self, challenge_ids):
        self.challenge_ids = challenge_ids


def challenge_verify_code(*, dsr: DataSubjectRequest, code: str, request=None) -> DataSubjectRequest:
    """A code was typed in for `dsr`: the identifier whose open challenge it matches is proved."""
    try:
        with transaction.atomic():
            return _verify_code(dsr, code, request=request)
    except _WrongCode as wrong:
        # Counted outside the transaction that refused it, or the count would be rolled back too.
        VerificationChallenge.objects.filter(pk__in=wrong.challenge_ids).update(failed_attempts=F("failed_attempts") + 1)
        audit.record(events.REQUEST_VERIFICATION_FAILED, request=request, target=dsr)
        raise VerificationError("That code is not the one we sent. Check it and try again.") from None


def _verify_code(dsr: DataSubjectRequest, code: str, *, request) -> DataSubjectRequest:
    open_challenges = list(dsr.challenges.select_for_update().filter(used_at__isnull=True).order_by("-created_at"))
    if not open_challenges:
        raise VerificationError("This code has already been used, or none is waiting. Ask for a new code.")
    typed = "".join(ch for ch in code if ch.isdigit())
    for challenge in open_challenges:
        if hmac.compare_digest(challenge_code(challenge), typed):
            return _prove(_usable(challenge), request=request)
    live = [c for c in open_challenges if c.expires_at > timezone.now() and c.failed_attempts < MAX_CODE_ATTEMPTS]
    if not live:
        _usable(open_challenges[0])  # says why: expired, or too many attempts
    raise _WrongCode([c.pk for c in live])


def _prove(challenge: VerificationChallenge, *, request) -> DataSubjectRequest:
    challenge.used_at = timezone.now()
    challenge.save(update_fields=["used_at"])
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=challenge.request_id)
    _step(dsr, f"{challenge.get_channel_display()} confirmed by the requester")
    proved = set(dsr.challenges.filter(used_at__isnull=False).values_list("channel", flat=True))
    needed = {
        c
        for c, value in ((VerificationChallenge.Channel.EMAIL, dsr.email), (VerificationChallenge.Channel.SMS, dsr.phone))
        if value
    }
    # Every identifier must be proved: my e-mail with your number would otherwise open your data to me.
    if needed <= proved and dsr.state == State.AWAITING_VERIFICATION:
        _mark_verified(dsr, how="one-time " + " and ".join(sorted(proved)), actor=None, request=request)
    return dsr


def _mark_verified(dsr: DataSubjectRequest, *, how: str, actor, request) -> None:
    from .tasks import process_request

    now = timezone.now()
    dsr.state, dsr.verified_at, dsr.verified_by = State.IN_PROGRESS, now, how[:200]
    dsr.due_on = _due(dsr, today=deadlines.uk_date(now))
    dsr.save(update_fields=["state", "verified_at", "verified_by", "due_on"])
    _step(dsr, "Identity verified: the 30-day clock starts", actor=actor, note=how)
    audit.record(events.REQUEST_VERIFIED, request=request, actor=actor, target=dsr, details={"how": how, "due_on": dsr.due_on})
    process_request.delay_on_commit(dsr.pk)


# --- The clock ------------------------------------------------------------------------------------


def _pauses(dsr: DataSubjectRequest) -> list[deadlines.Pause]:
    return [
        deadlines.Pause(datetime.date.fromisoformat(start), datetime.date.fromisoformat(end) if end else None)
        for start, end in dsr.pauses
    ]


def _due(dsr: DataSubjectRequest, *, today: datetime.date) -> datetime.date:
    return deadlines.due_date(
        verified_on=deadlines.uk_date(dsr.verified_at), pauses=_pauses(dsr), extension_days=dsr.extension_days, today=today
    )


def _today() -> datetime.date:
    return deadlines.uk_date(timezone.now())


def _require(dsr: DataSubjectRequest, states, doing: str) -> None:
    if dsr.state not in states:
        raise ValidationError(f"{dsr} is {dsr.get_state_display().lower()}: it cannot be {doing}.")


@transaction.atomic
def request_pause(*, dsr: DataSubjectRequest, reason: str, actor, request=None) -> DataSubjectRequest:
    """Waiting for the requester to clarify: the clock stops until request_resume."""
    _require(dsr, DataSubjectRequest.CLOCK_STATES, "paused")
    if dsr.is_paused:
        raise ValidationError(f"{dsr} is already paused.")
    if not reason.strip():
        raise ValidationError({"reason": "Say what we are waiting for from the requester."})
    dsr.pauses = [*dsr.pauses, [_today().isoformat(), None]]
    dsr.pause_reason = reason.strip()[:300]
    dsr.save(update_fields=["pauses", "pause_reason"])
    _step(dsr, "Clock paused: waiting for the requester", actor=actor, note=reason)
    audit.record(events.REQUEST_PAUSED, request=request, actor=actor, target=dsr, reason=reason)
    return dsr


@transaction.atomic
def request_resume(*, dsr: DataSubjectRequest, actor, request=None) -> DataSubjectRequest:
    if not dsr.is_paused:
        raise ValidationError(f"{dsr} is not paused.")
    today = _today()
    dsr.pauses = [*dsr.pauses[:-1], [dsr.pauses[-1][0], today.isoformat()]]
    dsr.pause_reason = ""
    dsr.due_on = _due(dsr, today=today)
    dsr.save(update_fields=["pauses", "pause_reason", "due_on"])
    _step(dsr, f"Clock running again: due {dsr.due_on:%d %b %Y}", actor=actor)
    audit.record(events.REQUEST_RESUMED, request=request, actor=actor, target=dsr, details={"due_on": dsr.due_on})
    return dsr


@transaction.atomic
def request_extend(*, dsr: DataSubjectRequest, days: int, reason: str, actor, request=None) -> DataSubjectRequest:
    """Up to two further months for a complex or numerous request, with the reason; the requester is told."""
    from .tasks import send_request_message

    _require(dsr, DataSubjectRequest.CLOCK_STATES, "extended")
    if not reason.strip():
        raise ValidationError({"extension_reason": "Record why the request is complex or numerous: the requester is told."})
    total = dsr.extension_days + days
    if days <= 0 or total > deadlines.MAX_EXTENSION_DAYS:
        raise ValidationError(
            {
                "extension_days": f"Extend by 1 to {deadlines.MAX_EXTENSION_DAYS - dsr.extension_days} days (two months at most in all)."
            }
        )
    dsr.extension_days, dsr.extension_reason = total, reason.strip()
    dsr.due_on = _due(dsr, today=_today())
    dsr.save(update_fields=["extension_days", "extension_reason", "due_on"])
    _step(dsr, f"Extended by {days} days: due {dsr.due_on:%d %b %Y}", actor=actor, note=reason)
    audit.record(events.REQUEST_EXTENDED, request=request, actor=actor, target=dsr, reason=reason, details={"days": days})
    message, _ = RequestMessage.objects.get_or_create(request=dsr, kind=f"extended_{total}")
    send_request_message.delay_on_commit(message.pk)
    return dsr


@transaction.atomic
def request_assign(*, dsr: DataSubjectRequest, assignee, actor, request=None) -> DataSubjectRequest:
    if assignee is not None and not assignee.is_staff:
        raise ValidationError({"assigned_to": "Requests are assigned to NextSupport staff only."})
    dsr.assigned_to = assignee
    dsr.save(update_fields=["assigned_to"])
    _step(dsr, f"Assigned to {assignee.email}" if assignee else "Unassigned", actor=actor)
    audit.record(events.REQUEST_ASSIGNED, request=request, actor=actor, target=dsr, details={"to": getattr(assignee, "pk", None)})
    return dsr


@transaction.atomic
def request_note(*, dsr: DataSubjectRequest, text: str, actor, request=None) -> RequestEvent:
    """An internal note on the timeline: staff only, never shown to the requester."""
    if not text.strip():
        raise ValidationError({"note": "A note needs some text."})
    note = RequestEvent.objects.create(
        request=dsr, kind=RequestEvent.Kind.NOTE, action="Internal note", note=text.strip(), actor=actor
    )
    audit.record(events.REQUEST_NOTE_ADDED, request=request, actor=actor, target=dsr)
    return note


# --- Acting on a verified request -------------------------------------------------------------------


def request_process(*, request_id: int) -> bool:
    """After verification, once: discovery, NextSupport's own part, the clients' parts forwarded.

    Claimed with a conditional UPDATE, so two workers never both run it. Every action it calls is
    idempotent, so staff may run it again (`request_reprocess`) after a crash mid-way.
    """
    claimed = DataSubjectRequest.objects.filter(pk=request_id, state=State.IN_PROGRESS, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    if not claimed:
        return False
    _run(DataSubjectRequest.objects.get(pk=request_id))
    return True


def request_reprocess(*, dsr: DataSubjectRequest, actor, request=None) -> None:
    """Staff run discovery and NextSupport's actions again (after a failure): the same end state."""
    _require(dsr, DataSubjectRequest.CLOCK_STATES, "run again")
    _step(dsr, "Run again by staff", actor=actor)
    _run(dsr)


def subject_of(dsr: DataSubjectRequest) -> privacy.Subject:
    return privacy.Subject(phone=dsr.phone or None, email=dsr.email or None, cookie_consent_id=dsr.cookie_consent_id or None)


@transaction.atomic
def _run(dsr: DataSubjectRequest) -> None:
    from . import discovery

    found = discovery.find(subject_of(dsr))
    receipt = _act(dsr, found)
    parts = _forward(dsr, found)
    dsr.receipt = [*_receipt_dicts(receipt), *_forward_lines(parts)]
    dsr.save(update_fields=["receipt"])
    _step(dsr, f"Processed: {len(found.items)} items found, {len(parts)} client(s) asked")
    audit.record(
        events.REQUEST_PROCESSED,
        actor_label="task:process_request",
        target=dsr,
        details={"items": len(found.items), "clients": [p.organisation_id for p in parts]},
    )
    if parts and any(p.state == RequestPart.State.OPEN for p in parts):
        DataSubjectRequest.objects.filter(pk=dsr.pk, state=State.IN_PROGRESS).update(state=State.AWAITING_CLIENT)
    elif dsr.kind != RequestKind.RECTIFICATION:
        # A correction is made by staff (compliance.erasure.rectify_item), who then complete it.
        _complete(dsr, actor=None)


def _act(dsr: DataSubjectRequest, found) -> list:
    """NextSupport's own part of the action; a copy covers everything we hold, for every controller."""
    if dsr.kind in COPY_KINDS:
        _store_package(dsr, found)
        return []
    return perform(dsr, organisation_ids={None})


def perform(dsr: DataSubjectRequest, *, organisation_ids: set[int | None]) -> list:
    """Carry out a changing request on the data of the given controllers (None: NextSupport's own)."""
    if dsr.kind not in CHANGING_KINDS:
        return []  # access, portability and rectification change nothing here
    from . import erasure

    subject, reference = subject_of(dsr), dsr.reference
    if dsr.kind == RequestKind.ERASURE:
        return erasure.erase_subject(subject, organisation_ids=organisation_ids, reference=reference)
    if dsr.kind == RequestKind.RESTRICTION:
        return erasure.restrict_subject(subject, organisation_ids=organisation_ids, reference=reference)
    if dsr.kind in (RequestKind.OBJECTION, RequestKind.WITHDRAW_CONSENT):
        withdraw = dsr.kind == RequestKind.WITHDRAW_CONSENT
        return erasure.object_for_subject(
            subject, organisation_ids=organisation_ids, withdraw_consent=withdraw, reference=reference
        )
    return []  # access, portability and rectification change nothing here


def _receipt_dicts(lines) -> list[dict]:
    return [
        {
            "category": line.category,
            "organisation_id": line.organisation_id,
            "action": line.action,
            "count": line.count,
            "note": line.note,
        }
        for line in lines
    ]


def _store_package(dsr: DataSubjectRequest, found) -> None:
    from . import packages

    content = crypto.keyring().encrypt(packages.build_package(found), _PACKAGE_AAD + dsr.reference.encode())
    storage = storages["default"]
    if dsr.package_name:
        storage.delete(dsr.package_name)  # a run again replaces the package, never leaves two
    name = storage.save(f"requests/{dsr.reference}-{secrets.token_hex(8)}.zip.enc", ContentFile(content))
    dsr.package_name, dsr.package_created_at = name, timezone.now()
    dsr.save(update_fields=["package_name", "package_created_at"])
    _step(dsr, "Copy of the data prepared (encrypted in storage)")


def package_content(dsr: DataSubjectRequest) -> bytes:
    with storages["default"].open(dsr.package_name, "rb") as stored:
        return crypto.keyring().decrypt(stored.read(), _PACKAGE_AAD + dsr.reference.encode())


def package_downloaded(*, dsr: DataSubjectRequest, request=None) -> None:
    _step(dsr, "Copy of the data downloaded by the requester")
    audit.record(events.REQUEST_PACKAGE_DOWNLOADED, request=request, target=dsr)


@transaction.atomic
def request_rectify(*, dsr: DataSubjectRequest, label: str, pk: int, field: str, value: str, actor, request=None):
    """Staff correct one field of an item NextSupport controls (P36), with the before/after record kept."""
    from . import erasure

    _require(dsr, DataSubjectRequest.CLOCK_STATES, "corrected")
    if dsr.kind != RequestKind.RECTIFICATION:
        raise ValidationError(f"{dsr} asks for {dsr.get_kind_display().lower()}, not a correction.")
    record = erasure.rectify_item(label=label, pk=pk, changes={field: value}, reference=dsr.reference, actor=actor)
    registration = next(r for r in privacy.registrations() if r.label == label)
    line = {"category": registration.category.label, "organisation_id": None, "action": "corrected", "count": 1, "note": ""}
    dsr.receipt = [*dsr.receipt, line]
    dsr.save(update_fields=["receipt"])
    _step(dsr, f"Corrected {label} #{pk} ({field})", actor=actor)
    return record


# --- Forwarding to clients (P43) ----------------------------------------------------------------------


def _forward(dsr: DataSubjectRequest, found) -> list[RequestPart]:
    from campaigns import client_webhooks

    parts = []
    for organisation_id, items in found.by_controller().items():
        if organisation_id is None:
            continue
        forwarded_on = _today()
        part, created = RequestPart.objects.get_or_create(
            request=dsr,
            organisation_id=organisation_id,
            defaults={
                "item_count": len(items),
                "categories": sorted({item.category.label for item in items}),
                "due_on": deadlines.due_date(verified_on=forwarded_on, today=forwarded_on),
            },
        )
        parts.append(part)
        if created:
            _step(dsr, f"Forwarded to client #{organisation_id} ({len(items)} items)")
            audit.record(
                events.REQUEST_FORWARDED, actor_label="task:process_request", target=dsr, organisation_id=organisation_id
            )
            client_webhooks.deliveries_for_forwarded_request(organisation_id=organisation_id, data=part_payload(part))
    return parts


def part_payload(part: RequestPart) -> dict:
    """What a client's systems are told of a forwarded part: never who the person is (they ask the API)."""
    return {
        "id": part.pk,
        "reference": part.request.reference,
        "kind": part.request.kind,
        "due_on": part.due_on.isoformat(),
        "categories": part.categories,
        "items": part.item_count,
    }


def _forward_lines(parts: list[RequestPart]) -> list[dict]:
    return [
        {
            "category": ", ".join(part.categories),
            "organisation_id": part.organisation_id,
            "action": "forwarded",
            "count": part.item_count,
            "note": f"Held for {part.organisation.display_name}, who decides on it as the controller; we have passed your request on.",
        }
        for part in parts
    ]


class Answer:
    DONE = "done"
    REFUSED = "refused"
    DELEGATE = "delegate"
    CHOICES = (
        (DONE, "We have dealt with it"),
        (REFUSED, "We refuse it (give the reason)"),
        (DELEGATE, "Ask NextSupport to carry it out on our data"),
    )


@transaction.atomic
def part_answer(*, part: RequestPart, answer: str, note: str, actor=None, request=None) -> RequestPart:
    """The client's answer to its part; the request completes once every client has answered."""
    part = RequestPart.objects.select_for_update().select_related("request").get(pk=part.pk)
    if part.state != RequestPart.State.OPEN:
        raise ValidationError({"answer": f"This request was already answered ({part.get_state_display().lower()})."})
    if answer == Answer.REFUSED and not note.strip():
        raise ValidationError({"note": "Give the reason for refusing: the requester is told it."})
    if answer not in (Answer.DONE, Answer.REFUSED, Answer.DELEGATE):
        raise ValidationError({"answer": "Choose done, refused or delegate."})
    if answer == Answer.DELEGATE and part.request.kind not in CHANGING_KINDS:
        raise ValidationError({"answer": _NOT_DELEGABLE[part.request.kind]})
    if answer == Answer.DELEGATE:
        part.receipt = _receipt_dicts(perform(part.request, organisation_ids={part.organisation_id}))
        part.state = RequestPart.State.DELEGATED
    else:
        part.state = RequestPart.State.DONE if answer == Answer.DONE else RequestPart.State.REFUSED
    part.answered_at, part.answered_by, part.answer_note = timezone.now(), actor, note.strip()
    part.save(update_fields=["receipt", "state", "answered_at", "answered_by", "answer_note"])
    dsr = part.request
    _step(dsr, f"Client #{part.organisation_id} answered: {part.get_state_display()}", actor=actor, note=note)
    audit.record(
        events.REQUEST_PART_ANSWERED,
        request=request,
        actor=actor,
        target=dsr,
        organisation_id=part.organisation_id,
        details={"answer": answer},
    )
    if not dsr.parts.filter(state=RequestPart.State.OPEN).exists() and dsr.state == State.AWAITING_CLIENT:
        _complete(dsr, actor=None)
    return part


# --- Ending a request ---------------------------------------------------------------------------------


@transaction.atomic
def request_complete(*, dsr: DataSubjectRequest, actor, note: str = "", request=None) -> DataSubjectRequest:
    """Staff close a request (a correction made, a request answered by hand)."""
    _require(dsr, DataSubjectRequest.CLOCK_STATES, "completed")
    if dsr.parts.filter(state=RequestPart.State.OPEN).exists():
        raise ValidationError("A client has not answered its part yet: the request completes when every controller has.")
    if note.strip():
        _step(dsr, "Completed by staff", actor=actor, note=note)
    _complete(dsr, actor=actor, request=request)
    return dsr


def _complete(dsr: DataSubjectRequest, *, actor, request=None) -> None:
    from .tasks import send_request_message

    done = DataSubjectRequest.objects.filter(pk=dsr.pk, state__in=DataSubjectRequest.CLOCK_STATES).update(
        state=State.COMPLETED, completed_at=timezone.now()
    )
    if not done:
        return
    dsr.refresh_from_db()
    _step(dsr, "Completed: the requester is told", actor=actor)
    audit.record(events.REQUEST_COMPLETED, request=request, actor=actor, actor_label="" if actor else "system", target=dsr)
    message, _ = RequestMessage.objects.get_or_create(request=dsr, kind="completed")
    send_request_message.delay_on_commit(message.pk)


@transaction.atomic
def request_refuse(*, dsr: DataSubjectRequest, ground: str, detail: str, actor, request=None) -> DataSubjectRequest:
    """Refuse the request on a legal ground; the requester is told why and of the right to complain."""
    from .tasks import send_request_message

    _require(dsr, DataSubjectRequest.OPEN_STATES, "refused")
    if not ground:
        raise ValidationError({"refusal_ground": "Choose the legal ground for refusing."})
    if not detail.strip():
        raise ValidationError({"refusal_detail": "Explain the refusal in words the requester will understand."})
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(
        state=State.REFUSED, refusal_ground=ground, refusal_detail=detail.strip(), completed_at=timezone.now()
    )
    dsr.refresh_from_db()
    _step(dsr, f"Refused: {dsr.get_refusal_ground_display()}", actor=actor, note=detail)
    audit.record(events.REQUEST_REFUSED, request=request, actor=actor, target=dsr, reason=ground)
    if dsr.verified_at:  # an unverified address may not be the requester's: it is told nothing
        message, _ = RequestMessage.objects.get_or_create(request=dsr, kind="refused")
        send_request_message.delay_on_commit(message.pk)
    return dsr


# --- E-mails ------------------------------------------------------------------------------------------

_REQUESTER_TEMPLATES = {"completed": "request_completed", "refused": "request_refused", "extended": "request_extended"}


def message_send(*, message_id: int) -> bool:
    """Send one request e-mail once (nextsupport.mail.send_once)."""

    def send():
        message = RequestMessage.objects.select_related("request").get(pk=message_id)
        dsr, kind = message.request, message.kind
        context = {"dsr": dsr, "status_url": mail.absolute(f"/your-rights/requests/{dsr.reference}/")}
        if kind.startswith("alert_"):
            context["admin_url"] = mail.absolute(f"/admin/compliance/datasubjectrequest/{dsr.pk}/change/")
            subject, body = mail.render(f"compliance/email/request_{kind}", context)
            mail.send(to=settings.COMPLIANCE_EMAIL, subject=subject, body=body)
            return
        if not dsr.email:
            return  # reached by phone only: the status page (after a new code) tells them
        subject, body = mail.render(f"compliance/email/{_REQUESTER_TEMPLATES[kind.split('_')[0]]}", context)
        mail.send(to=dsr.email, subject=subject, body=body)

    return mail.send_once(RequestMessage.objects.filter(pk=message_id), send=send)


# --- Retention ---------------------------------------------------------------------------------------

PACKAGE_KEEP_DAYS = 30


@transaction.atomic
def request_copies_expire(*, now: datetime.datetime | None = None) -> int:
    """Daily: the copy of the data goes 30 days after its request ended, deleted and checked gone (a file the
    storage keeps is queued and retried). The requests themselves go with the registry's six years, through
    the retention engine like every other row. Counts only in the audit trail."""
    from .erasure import delete_file

    now = now or timezone.now()
    stale = DataSubjectRequest.objects.filter(completed_at__lt=now - datetime.timedelta(days=PACKAGE_KEEP_DAYS)).exclude(
        package_name=""
    )
    copies = 0
    for dsr in stale:
        delete_file("default", dsr.package_name, reference=dsr.reference, model_label=DataSubjectRequest._meta.label)
        DataSubjectRequest.objects.filter(pk=dsr.pk).update(package_name="")
        _step(dsr, "Copy of the data deleted from storage")
        copies += 1
    if copies:
        audit.record(events.REQUEST_COPIES_EXPIRED, actor_label="task:expire_request_copies", details={"copies": copies})
    return copies


def alerts_queue(*, today: datetime.date | None = None) -> list[int]:
    """Daily: one message per request and standing (overdue, due soon) for the compliance team."""
    from . import selectors

    today = today or _today()
    messages = []
    for standing, requests in (
        (deadlines.Standing.OVERDUE, selectors.requests_overdue(today=today)),
        (deadlines.Standing.DUE_SOON, selectors.requests_due_soon(today=today)),
    ):
        for dsr in requests:
            message, _ = RequestMessage.objects.get_or_create(request=dsr, kind=f"alert_{standing}")
            if message.sent_at is None and message.sending_since is None:
                messages.append(message.pk)
    return messages
