"""Outbound webhooks: what the platform tells a client's own systems, and how it is sent.

    deliveries_for_call_ended(call=...)      the receivers of campaigns.signals (and deliveries_for_opt_out):
                                             one delivery per subscribed endpoint, sent after commit
    delivery_send(delivery_id=...)           one attempt (the send_client_webhook task); claimed, so never twice
    deliveries_enqueue_due()                 the beat's sweep of retries that have come due
    webhook_endpoint_create/update/delete/rotate_secret, webhook_test_send   the API's writes

Events (`WebhookEvent`): `call.completed` when a call ends, whatever its
outcome, `consumer.opted_out` when someone asks on a call not to be called
again, and `data_subject_request.forwarded` when a person's data-protection
request about data the client controls awaits its answer (compliance, P43). The receivers in campaigns.receivers turn `campaigns.signals` into
deliveries, one per active endpoint subscribed to the event, each sent by a
task once the transaction that recorded the call commits.

A payload carries ids, codes, durations and times, and at most a masked number
("••• ••• 123"): never a name, a full number, a transcript or what anyone said
(P22: no path takes personal data out of the product this way). A client that
needs more asks the API, with a key that carries the capability to see it.

Signing. Every request carries these headers:

    X-NextSupport-Event:      call.completed
    X-NextSupport-Delivery:   the delivery's id, a UUID; the same on every retry, so deduplicate on it
    X-NextSupport-Timestamp:  Unix time in seconds when this attempt was signed
    X-NextSupport-Signature:  sha256=<hex HMAC-SHA256 of f"{timestamp}.{body}", keyed with the secret>

where body is the request body exactly as received (UTF-8 JSON) and the key is
the endpoint's secret as UTF-8 text (shown once, when the endpoint is created
or its secret rotated). A client verifies a request like this, and refuses one
signed more than five minutes ago, so that a request captured on the way
cannot be replayed later:

    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    valid = hmac.compare_digest(expected, signature) and abs(time.time() - int(timestamp)) <= 300

Sending. One POST per attempt, with a timeout of a few seconds
(CLIENT_WEBHOOK_TIMEOUT_SECONDS), following no redirects. Outside DEBUG the host
is resolved first and every address it has must be public (no private,
loopback, link-local or reserved networks: a client must not be able to point
us at our own infrastructure), and the connection goes to the address that
was checked, so a second DNS answer cannot swap it. A 2xx answer is delivered.
A network error, a timeout, a 5xx or a 429 is tried again after each of
RETRY_DELAYS in turn (1 min, 5 min, 30 min, 2 h, 6 h, 24 h), then the delivery
fails; any other answer fails it at once, since sending it again would get
the same answer.
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from nextsupport import audit
from nextsupport.identifiers import mask_phone

from . import selectors, tasks
from .events import WEBHOOK_ENDPOINT_CREATED, WEBHOOK_ENDPOINT_DELETED, WEBHOOK_ENDPOINT_UPDATED, WEBHOOK_SECRET_ROTATED
from .models import Call, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=6),
    datetime.timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A claimed attempt is due again after this long if its worker died mid-send (the request
# timed out long before): the delivery is retried rather than lost.
CLAIM_LEASE = datetime.timedelta(minutes=2)
MAX_ENDPOINTS = 10
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "NextSupport-Webhooks/1.0"
_KEY_SALT = "campaigns.client_webhooks.signing-secret"


# --- Secrets and signatures ---------------------------------------------------------------


def secret_for(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, derived (never stored) from its id, its nonce and SECRET_KEY."""
    return salted_hmac(_KEY_SALT, f"{endpoint.pk}:{endpoint.secret_nonce}", algorithm="sha256").hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- Where we may send --------------------------------------------------------------------


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # is_global alone lets multicast through (224.0.0.0/4 counts as global).
    return address.is_global and not address.is_multicast


def _literal_address(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def checked_url(url: str) -> str:
    """The endpoint address if we may deliver to it; a ValidationError on "url" saying why not."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError({"url": "Give the endpoint's full address, starting with https://."}) from None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in LOCAL_HOSTS
    if parts.username or parts.password:
        raise ValidationError({"url": "Leave the user name and password out of the address: every delivery is signed instead."})
    if parts.scheme != "https" and not (settings.DEBUG and local):
        raise ValidationError({"url": "Webhooks are only sent over HTTPS: the address must start with https://."})
    address = _literal_address(host)
    if not settings.DEBUG and (local or (address is not None and not _public(address))):
        raise ValidationError({"url": "This address is not on the public internet; webhooks only go to public addresses."})
    return url


class Refused(Exception):
    """We will not send to this destination (it is not public): retrying cannot help."""


class Unreachable(Exception):
    """The destination could not be reached this time (DNS, connection, timeout): worth another try."""


def resolve(host: str, port: int) -> str:
    """The address to connect to. Outside DEBUG, every address the name resolves to must be public."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"The host name {host} could not be resolved.") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found))
    private = [a for a in addresses if not _public(a)]
    if private and not settings.DEBUG:
        raise Refused(f"{host} resolves to {private[0]}, which is not a public address: nothing was sent.")
    # IPv4 first: a worker without a working IPv6 route would otherwise fail every dual-stack endpoint.
    return str(min(addresses, key=lambda a: a.version))


# --- One attempt --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str = ""
    delivered: bool = False
    retry: bool = False


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST to `url` through the address `resolve()` checked; the answer's status code. No redirects, no retries."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve(parts.hostname, port)
    timeout = urllib3.Timeout(total=settings.CLIENT_WEBHOOK_TIMEOUT_SECONDS)
    if https:
        # The certificate is checked against the host name, while the socket goes to the checked address.
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.CLIENT_WEBHOOK_CA_FILE or certifi.where(),
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        response = pool.urlopen(
            "POST", target, body=body, headers={**headers, "Host": parts.netloc}, redirect=False, preload_content=False
        )
        # The answer's body is never read: only its status counts, and a large or slow one cannot hold the worker.
        response.release_conn()
        return response.status


def _judge(status: int) -> Attempt:
    if 200 <= status < 300:
        return Attempt(status, delivered=True)
    if status == 429 or status >= 500:
        return Attempt(status, f"The endpoint answered {status}.", retry=True)
    if 300 <= status < 400:
        return Attempt(status, f"The endpoint answered {status}: redirects are not followed, give the final address.")
    return Attempt(status, f"The endpoint answered {status}.")


def attempt(delivery: WebhookDelivery) -> Attempt:
    """Send the delivery once, signed now, and say how it went. Never raises for the endpoint's faults."""
    body, timestamp = body_of(delivery), int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-NextSupport-Event": delivery.event,
        "X-NextSupport-Delivery": str(delivery.event_id),
        "X-NextSupport-Timestamp": str(timestamp),
        "X-NextSupport-Signature": signature(secret_for(delivery.endpoint), timestamp, body),
    }
    try:
        return _judge(_post(delivery.endpoint.url, body, headers))
    except Refused as exc:
        return Attempt(None, str(exc))
    except Unreachable as exc:
        return Attempt(None, str(exc), retry=True)
    except urllib3.exceptions.NewConnectionError:
        # Checked before timeouts: urllib3 counts a refused connection as a kind of connect timeout.
        return Attempt(None, "Could not connect to the endpoint.", retry=True)
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        return Attempt(None, f"No answer within {settings.CLIENT_WEBHOOK_TIMEOUT_SECONDS:g} s.", retry=True)
    except urllib3.exceptions.SSLError:
        return Attempt(None, "The endpoint's HTTPS certificate could not be verified.", retry=True)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Attempt(None, f"Could not connect: {type(exc).__name__}.", retry=True)


# --- Deliveries ---------------------------------------------------------------------------


def _record(delivery: WebhookDelivery, result: Attempt) -> str:
    now = timezone.now()
    changes = {"last_status_code": result.status_code, "last_error": result.error[:300], "next_attempt_at": None}
    if result.delivered:
        changes.update(state=WebhookDelivery.State.DELIVERED, delivered_at=now)
    elif result.retry and delivery.attempts < MAX_ATTEMPTS:
        changes["next_attempt_at"] = now + RETRY_DELAYS[delivery.attempts - 1]
    else:
        changes["state"] = WebhookDelivery.State.FAILED
    WebhookDelivery.objects.filter(pk=delivery.pk, state=WebhookDelivery.State.PENDING).update(**changes)
    return changes.get("state", "retry")


def delivery_send(*, delivery_id: int) -> str:
    """Make the delivery's next attempt if it is due. Idempotent: a delivered, failed or
    not-yet-due delivery, or one another worker has claimed, is left alone."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return "not due"
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "endpoint removed"  # deleted, with its log, since the claim
    if not delivery.endpoint.active:
        return _record(delivery, Attempt(None, "The endpoint was switched off before this could be sent."))
    result = attempt(delivery)
    if not result.delivered:
        log.info("Webhook delivery %s to endpoint %s: %s", delivery.event_id, delivery.endpoint_id, result.error)
    return _record(delivery, result)


def deliveries_enqueue_due(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The beat's sweep: hand every pending delivery whose time has come to a worker."""
    due = selectors.webhook_deliveries_due(now=now or timezone.now(), limit=limit)
    for delivery_id in due:
        tasks.send_client_webhook.delay(delivery_id)
    return len(due)


def _envelope(event: str, event_id: uuid.UUID, data: dict) -> dict:
    return {"id": str(event_id), "type": event, "created_at": timezone.now().isoformat(), "data": data}


def _create(endpoints, event: str, data: dict) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        deliveries.append(
            WebhookDelivery(
                organisation_id=endpoint.organisation_id,
                endpoint=endpoint,
                event_id=event_id,
                event=event,
                payload=_envelope(event, event_id, data),
                next_attempt_at=now,
            )
        )
    created = WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in created:
        tasks.send_client_webhook.delay_on_commit(delivery.pk)
    return created


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _masked_number(call: Call) -> str | None:
    return mask_phone(call.consumer.phone) if call.consumer_id else None


def _call_data(call: Call) -> dict:
    """What a client is told about a finished call: ids, codes, durations and times (P22)."""
    return {
        "call": call.pk,
        "campaign": {"id": call.campaign_id, "name": call.campaign.name},
        "contact": call.contact_id,
        "consumer": call.consumer_id,
        "number": _masked_number(call),
        "attempt": call.attempt,
        "script_version": call.script_version.number,
        "status": call.status,
        "outcome": call.outcome or None,
        "answered_by": call.answered_by or None,
        "dialled_at": _iso(call.dialled_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "opted_out": call.opted_out_at is not None,
        "transferred": call.transferred_at is not None,
    }


def deliveries_for_call_ended(*, call: Call) -> list[WebhookDelivery]:
    endpoints = list(selectors.webhook_endpoints_subscribed(call.organisation_id, WebhookEvent.CALL_COMPLETED))
    return _create(endpoints, WebhookEvent.CALL_COMPLETED, _call_data(call)) if endpoints else []


def deliveries_for_opt_out(*, call: Call | None, consumer=None, organisation_id: int | None = None) -> list[WebhookDelivery]:
    """Someone said stop: on one of the client's calls (`call`), or by calling its caller ID back (no call)."""
    organisation_id = call.organisation_id if call is not None else organisation_id
    endpoints = list(selectors.webhook_endpoints_subscribed(organisation_id, WebhookEvent.CONSUMER_OPTED_OUT))
    if not endpoints:
        return []
    if call is not None:
        data = {
            "call": call.pk,
            "campaign": {"id": call.campaign_id, "name": call.campaign.name},
            "contact": call.contact_id,
            "consumer": call.consumer_id,
            "number": _masked_number(call),
            "opted_out_at": _iso(call.opted_out_at),
        }
    else:
        data = {
            "call": None,
            "campaign": None,
            "contact": None,
            "consumer": consumer.pk,
            "number": mask_phone(consumer.phone),
            "opted_out_at": _iso(consumer.objected_at),
            "how": "called the caller ID back",
        }
    # Every campaign of the client stops calling the number at once (P40); the client need do nothing.
    data["suppressed"] = True
    return _create(endpoints, WebhookEvent.CONSUMER_OPTED_OUT, data)


def deliveries_for_forwarded_request(*, organisation_id: int, data: dict) -> list[WebhookDelivery]:
    """A data-subject request's part awaits the client (compliance.requests): `data` holds its reference,
    kind, due date and categories, never who the person is; the client reads that through the API."""
    endpoints = list(selectors.webhook_endpoints_subscribed(organisation_id, WebhookEvent.DATA_SUBJECT_REQUEST_FORWARDED))
    return _create(endpoints, WebhookEvent.DATA_SUBJECT_REQUEST_FORWARDED, data) if endpoints else []


# --- Endpoints (the API's writes) ---------------------------------------------------------


def _checked_events(chosen: list) -> list[str]:
    chosen = list(dict.fromkeys(chosen or []))
    unknown = [e for e in chosen if e not in WebhookEvent.values]
    if not chosen or unknown:
        raise ValidationError({"events": f"Choose one or more of: {', '.join(WebhookEvent.values)}."})
    return chosen


@transaction.atomic
def webhook_endpoint_create(*, organisation, url: str, events: list, description: str = "", by, request=None):
    """A new endpoint, and its signing secret: returned this once, never shown again (it is not stored)."""
    url, chosen = checked_url(url), _checked_events(events)
    if selectors.webhook_endpoints_for(organisation).count() >= MAX_ENDPOINTS:
        raise ValidationError(f"An organisation can have at most {MAX_ENDPOINTS} webhook endpoints; remove one first.")
    endpoint = WebhookEndpoint.objects.create(
        organisation=organisation,
        url=url,
        events=chosen,
        description=(description or "").strip()[:200],
        secret_nonce=secrets.token_hex(32),
        created_by=by,
    )
    audit.record(WEBHOOK_ENDPOINT_CREATED, request=request, actor=by, target=endpoint, details={"events": chosen})
    return endpoint, secret_for(endpoint)


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, changes: dict, by, request=None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in changes:
        endpoint.url = checked_url(changes["url"])
    if "events" in changes:
        endpoint.events = _checked_events(changes["events"])
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip()[:200]
    if "active" in changes:
        endpoint.active = bool(changes["active"])
    endpoint.save()
    audit.record(WEBHOOK_ENDPOINT_UPDATED, request=request, actor=by, target=endpoint, details={"fields": sorted(changes)})
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by, request=None) -> str:
    """A new secret at once: every attempt from now on is signed with it, retries of older deliveries too."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret_nonce, endpoint.secret_rotated_at = secrets.token_hex(32), timezone.now()
    endpoint.save(update_fields=["secret_nonce", "secret_rotated_at"])
    audit.record(WEBHOOK_SECRET_ROTATED, request=request, actor=by, target=endpoint)
    return secret_for(endpoint)


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, by, request=None) -> None:
    """The endpoint goes, with its delivery log; nothing pending is sent to it any more."""
    audit.record(WEBHOOK_ENDPOINT_DELETED, request=request, actor=by, target=endpoint)
    endpoint.delete()


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, by, request=None) -> WebhookDelivery:
    """A `webhook.test` event to the endpoint, signed and sent like any other, so the client can check its receiver."""
    if not endpoint.active:
        raise ValidationError({"active": "The endpoint is switched off: switch it on to send it a test."})
    data = {"endpoint": endpoint.pk, "message": "A test from NextSupport. If its signature verifies, your endpoint is ready."}
    (delivery,) = _create([endpoint], WebhookDelivery.TEST_EVENT, data)
    return delivery
