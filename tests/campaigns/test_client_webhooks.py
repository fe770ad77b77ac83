"""Outbound webhooks to the client: real calls through the simulator end in signed, timestamped
POSTs to a real HTTP server standing in for the client's endpoint, retried with backoff on
transient failures, never sent twice once delivered, and never to a private address."""

import datetime
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from campaigns import client_webhooks, tasks
from campaigns.models import Call, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.telephony.simulator import Persona, example_number
from nextsupport.celery import app
from nextsupport.models import AuditEvent
from tests.campaigns.conftest import launched
from tests.campaigns.test_calls import dial, play_all
from tests.conftest import login
from tests.factories import APIKeyFactory, WebhookEndpointFactory

COOPERATIVE, STOP = example_number(Persona.COOPERATIVE), example_number(Persona.STOP)


class Receiver:
    """The client's endpoint: a real HTTP server on 127.0.0.1, in a thread, answering as it is told.

    `answers` is a queue of (status, seconds to wait first); once empty, every request gets 200.
    """

    def __init__(self, *, tls: ssl.SSLContext | None = None):
        self.requests, self.answers = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, wait = receiver.answers.pop(0) if receiver.answers else (200, 0)
                time.sleep(wait)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"{receiver.url}-moved")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the platform hung up on a slow answer, as it should

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme, self.host = ("https", "localhost") if tls else ("http", "127.0.0.1")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verified(secret: str, request: dict, *, now: float | None = None) -> bool:
    """What the client does with each request, exactly as campaigns.client_webhooks tells it to."""
    timestamp, body = request["headers"]["X-NextSupport-Timestamp"], request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs((now or time.time()) - int(timestamp)) <= 300
    return hmac.compare_digest(expected, request["headers"]["X-NextSupport-Signature"]) and fresh


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def developing(settings):
    # http://127.0.0.1 is an endpoint only while developing (DEBUG); tests run with DEBUG off otherwise.
    settings.DEBUG = True


@pytest.fixture
def endpoint(developing, organisation, owner, receiver):
    endpoint, secret = client_webhooks.webhook_endpoint_create(
        organisation=organisation, url=receiver.url, events=list(WebhookEvent.values), by=owner
    )
    return endpoint, secret


@pytest.fixture
def calls_made(endpoint, organisation, owner, client, django_capture_on_commit_callbacks):
    """A campaign calling two people, one who completes the script and one who says stop; their
    call records committed, so the deliveries they queued are sent."""
    campaign = launched(organisation, owner, numbers=[COOPERATIVE, STOP])
    dial(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        play_all(client)
    return campaign


def send_test_event(endpoint, owner, django_capture_on_commit_callbacks) -> WebhookDelivery:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = client_webhooks.webhook_test_send(endpoint=endpoint, by=owner)
    delivery.refresh_from_db()
    return delivery


def sweep_after(traveller, delta: datetime.timedelta) -> None:
    """Time passes, then the beat's retry task runs."""
    traveller.shift(delta)
    tasks.retry_client_webhooks()


def url(name, org, *args):
    return reverse(f"campaigns-api:{name}", args=[org.pk, *args])


# --- What is sent, and how it is signed ---------------------------------------------------


@pytest.mark.obligation("P06")
def test_a_finished_call_and_an_opt_out_reach_the_client_signed_and_timestamped(calls_made, endpoint, receiver):
    # Given the calls made (when their records were committed)
    _, secret = endpoint
    completed = Call.objects.get(campaign=calls_made, outcome=Call.Outcome.COMPLETED_SCRIPT)

    # Then the endpoint received two call.completed events and one consumer.opted_out, each signed just now
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert sorted(b["type"] for b in bodies) == ["call.completed", "call.completed", "consumer.opted_out"]
    for request, body in zip(receiver.requests, bodies, strict=True):
        headers = request["headers"]
        assert verified(secret, request)
        assert (headers["X-NextSupport-Event"], headers["X-NextSupport-Delivery"]) == (body["type"], body["id"])
        assert headers["Content-Type"] == "application/json" and request["path"] == "/hook"
    [told] = [b for b in bodies if b["type"] == "call.completed" and b["data"]["call"] == completed.pk]
    assert told["data"]["outcome"] == "completed_script" and told["data"]["status"] == "completed"
    assert told["data"]["duration_seconds"] == completed.duration_seconds > 0
    assert told["data"]["campaign"] == {"id": calls_made.pk, "name": calls_made.name}
    assert told["data"]["number"] == f"••• ••• {COOPERATIVE[-3:]}"
    # And each delivery is logged as delivered at the first attempt
    log = WebhookDelivery.objects.filter(endpoint=endpoint[0])
    assert sorted(log.values_list("state", "attempts", "last_status_code")) == [("delivered", 1, 200)] * 3


@pytest.mark.obligation("P22")
def test_what_is_sent_to_the_client_carries_no_personal_data(calls_made, receiver):
    # Given everything personal the platform holds about the two people called
    calls = list(Call.objects.filter(campaign=calls_made).select_related("consumer"))
    personal = {"Person 0", "Person 1", "LS1 1AA", COOPERATIVE, STOP, "07911", "Stop calling me"}
    for call in calls:
        personal |= {line["text"] for line in json.loads(call.transcript) if line["speaker"] == "person"}
        personal |= {r.heard for r in call.responses.all() if r.heard}
    sent = [r["body"].decode() for r in receiver.requests]

    # Then none of it is in anything sent, and the payloads hold exactly the documented fields
    assert len(sent) == 3
    assert [(value, body) for body in sent for value in personal if value in body] == []
    shapes = {json.loads(body)["type"]: set(json.loads(body)["data"]) for body in sent}
    assert shapes == {
        "call.completed": {
            "call", "campaign", "contact", "consumer", "number", "attempt", "script_version", "status", "outcome",
            "answered_by", "dialled_at", "answered_at", "ended_at", "duration_seconds", "opted_out", "transferred",
        },
        "consumer.opted_out": {"call", "campaign", "contact", "consumer", "number", "opted_out_at", "suppressed"},
    }  # fmt: skip


def test_only_active_endpoints_subscribed_to_an_event_are_told(
    developing, organisation, owner, receiver, client, django_capture_on_commit_callbacks
):
    # Given an endpoint for opt-outs only, one switched off, and one for finished calls
    def add(events, **changes):
        endpoint, _ = client_webhooks.webhook_endpoint_create(
            organisation=organisation, url=receiver.url, events=events, by=owner
        )
        return client_webhooks.webhook_endpoint_update(endpoint=endpoint, changes=changes, by=owner) if changes else endpoint

    opt_outs = add([WebhookEvent.CONSUMER_OPTED_OUT])
    switched_off = add(list(WebhookEvent.values), active=False)
    finished = add([WebhookEvent.CALL_COMPLETED])
    launched(organisation, owner, numbers=[COOPERATIVE])

    # When a call completes without an opt-out
    dial(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        play_all(client)

    # Then only the endpoint for finished calls hears of it
    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [finished.pk]
    assert not opt_outs.deliveries.exists() and not switched_off.deliveries.exists()
    assert len(receiver.requests) == 1


def test_the_secret_is_shown_once_is_not_stored_and_can_be_rotated(
    developing, organisation, owner, receiver, django_capture_on_commit_callbacks
):
    # Given an endpoint added through the API
    api = login(Client(), owner)
    created = api.post(
        url("webhooks", organisation),
        {"url": receiver.url, "events": ["call.completed"], "description": "CRM"},
        "application/json",
    )
    endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
    secret = created.json()["secret"]

    # When it is read back, and its secret rotated
    read = api.get(url("webhook", organisation, endpoint.pk)).json()
    listed = api.get(url("webhooks", organisation)).json()["results"]
    rotated = api.post(url("webhook-rotate-secret", organisation, endpoint.pk), {}, "application/json").json()
    delivery = send_test_event(endpoint, owner, django_capture_on_commit_callbacks)

    # Then the secret was in the creation's answer only, no column holds it, and the new one signs from now on
    assert created.status_code == 201 and len(secret) == 64 and int(secret, 16) >= 0
    assert "secret" not in read and "secret" not in listed[0]
    stored = json.dumps(list(WebhookEndpoint.objects.filter(pk=endpoint.pk).values()), default=str)
    assert secret not in stored and rotated["secret"] not in stored
    assert rotated["secret"] != secret and rotated["secret"] == client_webhooks.secret_for(
        WebhookEndpoint.objects.get(pk=endpoint.pk)
    )
    [request] = receiver.requests
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert verified(rotated["secret"], request) and not verified(secret, request)
    actions = AuditEvent.objects.filter(target_id=str(endpoint.pk), action__startswith="webhook_endpoint.")
    assert list(actions.order_by("sequence").values_list("action", flat=True)) == [
        "webhook_endpoint.created",
        "webhook_endpoint.secret_rotated",
    ]


def test_a_timestamp_older_than_five_minutes_fails_the_clients_check(
    endpoint, receiver, owner, django_capture_on_commit_callbacks
):
    _, secret = endpoint

    send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    assert verified(secret, request)
    assert not verified(secret, request, now=time.time() + 301)


# --- Retries --------------------------------------------------------------------------------


def test_a_server_error_is_retried_with_backoff_then_the_delivery_fails(
    endpoint, receiver, owner, tuesday_morning, django_capture_on_commit_callbacks
):
    # Given an endpoint that answers 500 every time
    receiver.answers = [(500, 0)] * 10
    delivery = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    waits = []

    # When time passes and the beat's retry task runs: just before each retry is due, then when it is
    for delay in client_webhooks.RETRY_DELAYS:
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
        sweep_after(tuesday_morning, delay - datetime.timedelta(seconds=10))
        too_early = len(receiver.requests)
        sweep_after(tuesday_morning, datetime.timedelta(seconds=11))
        assert (too_early, len(receiver.requests)) == (delivery.attempts, delivery.attempts + 1)
        delivery.refresh_from_db()

    # Then it was tried 7 times, 1 min, 5 min, 30 min, 2 h, 6 h and 24 h apart, each signed afresh, then failed
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 5, 30, 120, 360, 1440]
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 7, None)
    assert (delivery.last_status_code, delivery.last_error) == (500, "The endpoint answered 500.")
    assert {r["headers"]["X-NextSupport-Delivery"] for r in receiver.requests} == {str(delivery.event_id)}
    assert len({r["headers"]["X-NextSupport-Timestamp"] for r in receiver.requests}) == 7
    sweep_after(tuesday_morning, datetime.timedelta(days=3))
    assert len(receiver.requests) == 7


def test_a_timeout_is_retried_and_delivered_the_next_time(
    endpoint, receiver, owner, settings, tuesday_morning, django_capture_on_commit_callbacks
):
    # Given an endpoint that answers only after the platform has given up waiting, the first time
    settings.CLIENT_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.answers = [(200, 1.0)]

    # When the event is sent, and again a minute later
    first = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    sweep_after(tuesday_morning, datetime.timedelta(seconds=61))
    first_try_error = first.last_error
    first.refresh_from_db()

    # Then the first attempt timed out and was retried, and the second delivered it
    assert first_try_error == "No answer within 0.3 s."
    assert (first.state, first.attempts, first.last_status_code, first.last_error) == ("delivered", 2, 200, "")


def test_a_429_is_retried_and_a_404_fails_at_once(endpoint, receiver, owner, tuesday_morning, django_capture_on_commit_callbacks):
    # Given an endpoint that is rate-limiting, and then one answering 404
    receiver.answers = [(429, 0)]
    throttled = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    receiver.answers = [(404, 0)]
    missing = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)

    # When the retries come round
    sweep_after(tuesday_morning, datetime.timedelta(days=2))
    throttled.refresh_from_db()
    missing.refresh_from_db()

    # Then the 429 was tried again and delivered; the 404 failed at its only attempt
    assert (throttled.state, throttled.attempts) == ("delivered", 2)
    assert (missing.state, missing.attempts, missing.last_status_code) == ("failed", 1, 404)
    assert len(receiver.requests) == 3


def test_a_delivered_event_is_never_sent_again(endpoint, receiver, owner, tuesday_morning, django_capture_on_commit_callbacks):
    delivery = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)

    # When its task is delivered to a worker again, and the retries come round
    again = tasks.send_client_webhook(delivery.pk)
    sweep_after(tuesday_morning, datetime.timedelta(days=2))

    assert (delivery.state, again) == ("delivered", "not due")
    assert len(receiver.requests) == 1


def test_a_worker_killed_mid_send_leaves_the_delivery_to_be_sent_again(
    endpoint, receiver, owner, tuesday_morning, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a worker that dies while it sends (after claiming the delivery)
    class Killed(BaseException):
        pass

    def killed(delivery):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(client_webhooks, "attempt", killed)
        with pytest.raises(Killed):
            send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()

    # When the beat sweeps before the claim lapses, and after
    sweep_after(tuesday_morning, datetime.timedelta(seconds=30))
    before_lapse = len(receiver.requests)
    sweep_after(tuesday_morning, client_webhooks.CLAIM_LEASE)
    delivery.refresh_from_db()

    # Then nobody sent it while it was claimed, and it was delivered once the claim lapsed
    assert before_lapse == 0
    assert (delivery.state, delivery.attempts, len(receiver.requests)) == ("delivered", 2, 1)


def test_the_retry_sweep_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["retry-client-webhooks"]

    assert entry["task"] in app.tasks and entry["schedule"] <= datetime.timedelta(minutes=1)


# --- Where we send, and where we refuse to --------------------------------------------------


def test_redirects_are_not_followed(endpoint, receiver, owner, django_capture_on_commit_callbacks):
    receiver.answers = [(302, 0)]

    delivery = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)

    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 1, 302)
    assert "redirects are not followed" in delivery.last_error
    assert [r["path"] for r in receiver.requests] == ["/hook"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_nothing_is_sent_to_a_private_address_outside_debug(
    organisation, owner, receiver, host, django_capture_on_commit_callbacks
):
    # Given an endpoint whose address is (or resolves to) this machine, with DEBUG off
    endpoint = WebhookEndpointFactory(organisation=organisation, url=receiver.url.replace("127.0.0.1", host))

    # When an event is sent to it
    delivery = send_test_event(endpoint, owner, django_capture_on_commit_callbacks)

    # Then it fails at once without a connection being made
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert delivery.last_error == f"{host} resolves to 127.0.0.1, which is not a public address: nothing was sent."
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://hooks.client.example/nextsupport", "Webhooks are only sent over HTTPS: the address must start with https://."),
        ("http://127.0.0.1:8000/hook", "Webhooks are only sent over HTTPS: the address must start with https://."),
        ("https://localhost/hook", "This address is not on the public internet; webhooks only go to public addresses."),
        ("https://10.1.2.3/hook", "This address is not on the public internet; webhooks only go to public addresses."),
        ("https://169.254.169.254/latest", "This address is not on the public internet; webhooks only go to public addresses."),
        ("https://[::1]/hook", "This address is not on the public internet; webhooks only go to public addresses."),
        (
            "https://crm:pw@hooks.client.example/",
            "Leave the user name and password out of the address: every delivery is signed instead.",
        ),
        ("hooks.client.example", "Give the endpoint's full address, starting with https://."),
    ],
)
def test_an_endpoint_address_we_would_not_send_to_is_refused(organisation, owner, address, why):
    api = login(Client(), owner)

    response = api.post(url("webhooks", organisation), {"url": address, "events": ["call.completed"]}, "application/json")

    assert (response.status_code, response.json()) == (400, {"url": [why]})
    assert not WebhookEndpoint.objects.exists()


def test_only_public_addresses_count_as_public():
    public = [ipaddress.ip_address(a) for a in ("8.8.8.8", "2a00:1450:4009:81d::200e")]
    private = [
        ipaddress.ip_address(a)
        for a in ("10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1")
    ]
    private += [ipaddress.ip_address(a) for a in ("::", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "ff02::1")]
    private.append(ipaddress.IPv4Address(0))

    assert [a for a in public if not client_webhooks._public(a)] == []
    assert [a for a in private if client_webhooks._public(a)] == []


def _certificate_for(name: str, tmp_path):
    """A self-signed certificate for `name`, and a TLS server context presenting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


@pytest.mark.parametrize(("certified_for", "delivered"), [("localhost", True), ("elsewhere.example", False)])
def test_https_certificates_are_checked_against_the_host_name(
    developing, organisation, owner, settings, tmp_path, certified_for, delivered, django_capture_on_commit_callbacks
):
    # Given an HTTPS endpoint at localhost whose certificate is for `certified_for`, its issuer trusted
    cert_file, context = _certificate_for(certified_for, tmp_path)
    settings.CLIENT_WEBHOOK_CA_FILE = str(cert_file)
    server = Receiver(tls=context)
    try:
        endpoint, _ = client_webhooks.webhook_endpoint_create(
            organisation=organisation, url=server.url, events=["call.completed"], by=owner
        )

        # When an event is sent (the connection goes to the address localhost resolved to)
        delivery = send_test_event(endpoint, owner, django_capture_on_commit_callbacks)
    finally:
        server.close()

    # Then it is delivered only when the certificate names the endpoint's host
    if delivered:
        assert (delivery.state, delivery.last_status_code, len(server.requests)) == ("delivered", 200, 1)
    else:
        assert (delivery.state, delivery.last_error) == ("pending", "The endpoint's HTTPS certificate could not be verified.")
        assert server.requests == []


# --- The endpoints and the delivery log through the API ----------------------------------------


@pytest.fixture(params=["api_key", "session"])
def api(request, organisation, owner):
    if request.param == "api_key":
        key = APIKeyFactory(organisation=organisation)
        return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    return login(Client(), owner)


def test_endpoints_are_added_edited_tested_and_removed_through_the_api(
    api, developing, organisation, receiver, django_capture_on_commit_callbacks
):
    # When the client adds an endpoint, edits it, sends it a test, switches it off, and removes it
    created = api.post(url("webhooks", organisation), {"url": receiver.url, "events": ["call.completed"]}, "application/json")
    endpoint_id = created.json()["id"]
    edited = api.patch(
        url("webhook", organisation, endpoint_id),
        {"events": ["call.completed", "consumer.opted_out"], "description": "Our CRM"},
        "application/json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        tested = api.post(url("webhook-test", organisation, endpoint_id), {}, "application/json")
    switched_off = api.patch(url("webhook", organisation, endpoint_id), {"active": False}, "application/json")
    refused_test = api.post(url("webhook-test", organisation, endpoint_id), {}, "application/json")
    removed = api.delete(url("webhook", organisation, endpoint_id))

    # Then each answers as it should, the test reached the endpoint, and the endpoint and its log are gone
    assert created.status_code == 201 and created.json()["active"] is True and created.json()["secret"]
    assert edited.json()["events"] == ["call.completed", "consumer.opted_out"] and edited.json()["description"] == "Our CRM"
    assert tested.status_code == 202 and tested.json()["event"] == "webhook.test" and tested.json()["state"] == "pending"
    [request] = receiver.requests
    assert json.loads(request["body"])["type"] == "webhook.test"
    assert switched_off.json()["active"] is False
    assert refused_test.status_code == 400
    assert refused_test.json() == {"active": ["The endpoint is switched off: switch it on to send it a test."]}
    assert removed.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_endpoint_settings_refused_name_the_field(api, organisation):
    path = url("webhooks", organisation)

    no_events = api.post(path, {"url": "https://hooks.client.example/x", "events": []}, "application/json")
    unknown = api.post(path, {"url": "https://hooks.client.example/x", "events": ["call.started"]}, "application/json")
    for n in range(client_webhooks.MAX_ENDPOINTS):
        assert (
            api.post(
                path, {"url": f"https://hooks.client.example/{n}", "events": ["call.completed"]}, "application/json"
            ).status_code
            == 201
        )
    one_too_many = api.post(path, {"url": "https://hooks.client.example/x", "events": ["call.completed"]}, "application/json")

    assert no_events.json() == {
        "events": ["Choose one or more of: call.completed, consumer.opted_out, data_subject_request.forwarded."]
    }
    assert unknown.json() == {"events": {"0": ['"call.started" is not a valid choice.']}}
    assert one_too_many.status_code == 400
    assert one_too_many.json() == {
        "non_field_errors": ["An organisation can have at most 10 webhook endpoints; remove one first."]
    }


def test_the_delivery_log_is_paginated_and_filtered(
    api, endpoint, receiver, owner, organisation, django_capture_on_commit_callbacks
):
    # Given one failed delivery and one delivered
    receiver.answers = [(410, 0)]
    failed = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    delivered = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    path = url("webhook-deliveries", organisation, endpoint[0].pk)

    # When the log is read, whole and by state
    log = api.get(path).json()
    only_failed = api.get(path, {"state": "failed"}).json()["results"]
    bad = api.get(path, {"event": "call.started"})

    # Then it shows each event, newest first, with its attempts and the endpoint's answer
    assert log["count"] == 2
    assert [(d["id"], d["state"], d["attempts"], d["last_status_code"]) for d in log["results"]] == [
        (str(delivered.event_id), "delivered", 1, 200),
        (str(failed.event_id), "failed", 1, 410),
    ]
    assert log["results"][0]["payload"]["type"] == "webhook.test"
    assert [d["id"] for d in only_failed] == [str(failed.event_id)]
    assert bad.status_code == 400 and list(bad.json()) == ["event"]


def test_a_switched_off_endpoint_is_sent_nothing_more(
    endpoint, receiver, owner, tuesday_morning, django_capture_on_commit_callbacks
):
    # Given a delivery waiting for its retry, when the endpoint is switched off
    receiver.answers = [(503, 0)]
    delivery = send_test_event(endpoint[0], owner, django_capture_on_commit_callbacks)
    client_webhooks.webhook_endpoint_update(endpoint=endpoint[0], changes={"active": False}, by=owner)

    # When its retry comes round
    sweep_after(tuesday_morning, datetime.timedelta(minutes=2))
    delivery.refresh_from_db()

    # Then it fails without being sent again
    assert (delivery.state, delivery.attempts, len(receiver.requests)) == ("failed", 2, 1)
    assert delivery.last_error == "The endpoint was switched off before this could be sent."
