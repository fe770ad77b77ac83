"""The telephony provider's webhooks: verify, parse, hand to a service, answer with TwiML.

Every webhook is checked against the provider's signature over the public URL
it was sent to (settings.TELEPHONY_WEBHOOK_BASE_URL); an unsigned or wrongly
signed one is refused with 403 and written to the security log. A webhook
for a call we do not know is logged and answered harmlessly. The provider that
verifies a call's webhooks is the one that placed the call.
"""

import logging

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from nextsupport import audit, ratelimit

from . import calls, events, services, telephony
from .callbacks import url_for
from .models import Call, CallerId

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"
_HANG_UP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body or _EMPTY, content_type="text/xml; charset=utf-8")


def _verified(request, provider) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    return provider.verify_webhook(
        url=telephony.webhook_url(request.get_full_path()), params=request.POST.dict(), signature=signature
    )


def _refuse(request, kind: str) -> HttpResponse:
    log.warning("Refused an unsigned or wrongly signed %s webhook for %s.", kind, request.path)
    # The security log, but not one audit event per packet of a flood.
    if ratelimit.allow("telephony-refused", request, limit=30, window=3600):
        audit.record(events.WEBHOOK_REFUSED, request=request, details={"kind": kind, "path": request.path[:200]})
    return HttpResponseForbidden("Webhook signature missing or invalid.")


def _event(request, provider, kind: str):
    try:
        return provider.parse_event(kind, request.POST.dict())
    except ValueError as exc:
        log.warning("A %s webhook we could not read: %s", kind, exc)
        return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 6 else None


def call_webhook(kind: str):
    @csrf_exempt
    @require_POST
    def view(request, call_id: int):
        call = Call.objects.filter(pk=call_id).only("pk", "provider", "provider_sid").first()
        provider = telephony.provider(call.provider if call else None)
        if not _verified(request, provider):
            return _refuse(request, kind)
        event = _event(request, provider, kind)
        if event is None:
            return HttpResponse("Unreadable webhook.", status=400)
        if call is None:
            log.warning("A %s webhook for call %s, which we do not know: hanging up.", kind, call_id)
            return _twiml(_HANG_UP if kind in ("turn", "fallback", "dial") else "")
        answer = calls.call_event(
            call=call, event=event, turn=_number(request.GET.get("turn")), phase=request.GET.get("phase", "")
        )
        return _twiml(answer)

    view.__name__ = f"call_{kind}"
    return view


call_status = call_webhook("status")
call_machine = call_webhook("machine_detection")
call_turn = call_webhook("turn")
call_fallback = call_webhook("fallback")
call_recording = call_webhook("recording")
call_dial = call_webhook("dial")


def _inbound(request, kind: str):
    """Webhooks that belong to no call: verified by whichever configured provider signed them."""
    for name in telephony.available_providers():
        provider = telephony.provider(name)
        if _verified(request, provider):
            return provider, _event(request, provider, kind)
    return None, None


@csrf_exempt
@require_POST
def callback(request):
    """Someone rang a caller ID back: who called them, and how to stop it."""
    provider, event = _inbound(request, "inbound")
    if provider is None:
        return _refuse(request, "inbound")
    if event is None:
        return HttpResponse("Unreadable webhook.", status=400)
    return _twiml(calls.callback_event(event=event, stop_url=url_for("callback-stop")))


@csrf_exempt
@require_POST
def callback_stop(request):
    # The answer to the call-back's question: read like a conversation turn (speech and keypad).
    provider, event = _inbound(request, "turn")
    if provider is None:
        return _refuse(request, "inbound")
    if event is None:
        return HttpResponse("Unreadable webhook.", status=400)
    return _twiml(calls.callback_opt_out(event=event))


@csrf_exempt
@require_POST
def caller_id_status(request, caller_id: int):
    """The provider's result of a caller-ID validation."""
    caller = CallerId.objects.filter(pk=caller_id).first()
    provider = telephony.provider(caller.provider if caller else None)
    if not _verified(request, provider):
        return _refuse(request, "caller_id")
    event = _event(request, provider, "caller_id")
    if event is None:
        return HttpResponse("Unreadable webhook.", status=400)
    if caller is None:
        log.warning("A caller-ID validation result for %s, which we do not know.", caller_id)
        return HttpResponse(status=204)
    services.caller_id_verification_result(
        caller_id=caller, succeeded=event.verification_status == "success", reference=event.raw.get("OutgoingCallerIdSid", "")
    )
    return HttpResponse(status=204)
