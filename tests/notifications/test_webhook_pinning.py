"""DNS rebinding: a webhook's host is resolved once, the answer checked, and the request goes
to that checked address over a real connection, whatever a second lookup would say. Only the
resolver is replaced (the tests have no DNS); the receivers are real HTTP(S) servers on
loopback. ``127.0.0.2`` stands for a public address (``WEBHOOK_ALLOWED_NETWORKS`` lets it
through), ``127.0.0.1`` for the inside the check keeps webhooks away from. An IPv6 address
that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) is only as public as what it carries."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from notifications.models import Notification
from notifications.services import notification_deliver, outbox_claim_batch
from notifications.webhooks import webhook_emit, webhook_endpoint_register

pytestmark = pytest.mark.django_db

SECRET = "s3cret-s3cret-s3cret"
OUTSIDE = "127.0.0.2"  # stands for the public address the check approves
INSIDE = "127.0.0.1"


class Receiver:
    """An HTTP(S) server on one loopback address that records what reaches it."""

    def __init__(self, address: str, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        receiver = self
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen = {"path": self.path, "headers": dict(self.headers), "body": body}
                receiver.requests.append(seen)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_port
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FlippingResolver:
    """A DNS answer that changes between lookups: ``answers[0]`` first, then ``answers[1]``."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups), len(self.answers)) - 1]]


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    """A receiver on the approved address and one inside, on the same port."""
    outside = Receiver(OUTSIDE)
    try:
        inside = Receiver(INSIDE, outside.port)
    except OSError:
        outside.stop()
        pytest.skip("the port is taken on 127.0.0.1")
    yield outside, inside
    outside.stop()
    inside.stop()


def _deliver(url: str) -> str:
    webhook_endpoint_register(scope="team:1", url=url, secret=SECRET)
    webhook_emit(scope="team:1", event="case.opened", payload={"ref": "CASE-1"}, dedupe_key="k")
    [claim] = outbox_claim_batch()
    return notification_deliver(notification_id=claim.notification_id, attempt=1)


def test_a_rebinding_name_is_posted_to_the_checked_address_never_inside(
    receivers, monkeypatch, settings
):
    outside, inside = receivers
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{OUTSIDE}/32"]
    resolver = FlippingResolver(OUTSIDE, INSIDE)
    monkeypatch.setattr("notifications.transports.resolve_host", resolver)

    assert _deliver(f"http://rebind.example.test:{outside.port}/hooks/in?team=1") == "sent"

    assert resolver.lookups == ["rebind.example.test"]  # looked up once, by the check
    assert inside.requests == []
    [request] = outside.requests
    assert request["path"] == "/hooks/in?team=1"
    assert request["headers"]["Host"] == f"rebind.example.test:{outside.port}"
    assert request["headers"]["X-Caseowner-Event"] == "case.opened"


def test_a_public_first_answer_never_lets_the_request_reach_loopback(
    receivers, monkeypatch, settings
):
    """The resolver answers a public address to the check and loopback afterwards: the
    request may fail to reach the public address (there is no outside network here), but
    it never reaches the loopback server."""
    _outside, inside = receivers
    settings.WEBHOOK_TIMEOUT = 0.5
    resolver = FlippingResolver("93.184.215.14", INSIDE)
    monkeypatch.setattr("notifications.transports.resolve_host", resolver)

    outcome = _deliver(f"http://rebind.example.test:{inside.port}/hooks/in")

    assert resolver.lookups == ["rebind.example.test"]
    assert inside.requests == []
    assert outcome in ("retry", "sent", "failed")
    assert "127.0.0.1" not in (Notification.objects.get().last_error or "")


@pytest.fixture
def certificate(tmp_path) -> Path:
    """A self-signed certificate for ``hooks.example.test`` (its own CA)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example.test",
            "-addext", "subjectAltName=DNS:hooks.example.test",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return tmp_path


@pytest.fixture
def tls_receiver(certificate) -> Iterator[Receiver]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    receiver = Receiver(OUTSIDE, tls=context)
    yield receiver
    receiver.stop()


def test_https_to_the_pinned_address_keeps_the_name_for_sni_and_the_certificate(
    tls_receiver, certificate, monkeypatch, settings
):
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{OUTSIDE}/32"]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate / "cert.pem"))
    resolver = FlippingResolver(OUTSIDE, INSIDE)
    monkeypatch.setattr("notifications.transports.resolve_host", resolver)

    assert _deliver(f"https://hooks.example.test:{tls_receiver.port}/in") == "sent"

    assert tls_receiver.server_names == ["hooks.example.test"]
    [request] = tls_receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{tls_receiver.port}"


def test_https_verifies_the_certificate_for_the_name_not_the_address(
    tls_receiver, certificate, monkeypatch, settings
):
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{OUTSIDE}/32"]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate / "cert.pem"))
    monkeypatch.setattr("notifications.transports.resolve_host", FlippingResolver(OUTSIDE))

    assert _deliver(f"https://elsewhere.example.test:{tls_receiver.port}/in") == "retry"

    assert tls_receiver.requests == []
    assert "doesn't match 'hooks.example.test'" in Notification.objects.get().last_error


# --- addresses that carry an IPv4 address inside an IPv6 one ---------------------------------

EMBEDDING_INSIDE = [
    "::ffff:127.0.0.1",  # IPv4-mapped: a plain IPv4 connection to loopback
    "::ffff:10.0.0.7",
    "64:ff9b::7f00:1",  # NAT64 (RFC 6052): the translator connects to 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254, the cloud metadata service
    "64:ff9b:1::a00:7",  # the local-use NAT64 prefix (RFC 8215)
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:c0a8:1::1",  # 6to4 around 192.168.0.1
    "2001:0:4136:e378:8000:63bf:f5f6:f7fe",  # Teredo, client 10.9.8.1
    "::127.0.0.1",  # the deprecated IPv4-compatible form
]


@pytest.mark.parametrize("address", EMBEDDING_INSIDE)
def test_an_ipv6_address_carrying_an_inside_ipv4_address_is_refused_at_registration(address):
    with pytest.raises(ValueError, match="non-public"):
        webhook_endpoint_register(scope="team:1", url=f"http://[{address}]/in", secret=SECRET)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_an_ipv6_address_carrying_a_public_ipv4_address_may_register(address):
    webhook_endpoint_register(scope="team:1", url=f"http://[{address}]/in", secret=SECRET)


@pytest.mark.parametrize("address", EMBEDDING_INSIDE)
def test_a_name_resolving_to_an_ipv6_address_carrying_an_inside_one_is_never_posted_to(
    receivers, monkeypatch, address
):
    _outside, inside = receivers
    monkeypatch.setattr("notifications.transports.resolve_host", FlippingResolver(address))

    assert _deliver(f"http://nat64.example.test:{inside.port}/in") == "failed"

    assert inside.requests == []
    assert "non-public" in Notification.objects.get().last_error


def test_an_allowed_ipv4_network_also_allows_its_mapped_form(receivers, monkeypatch, settings):
    _outside, inside = receivers
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{INSIDE}/32"]
    monkeypatch.setattr(
        "notifications.transports.resolve_host", FlippingResolver(f"::ffff:{INSIDE}")
    )

    assert _deliver(f"http://mapped.example.test:{inside.port}/in") == "sent"
    assert len(inside.requests) == 1


def test_one_inside_address_among_the_answers_refuses_the_name(receivers, monkeypatch, settings):
    """The check approves a name only if every address it has is public: the connection
    goes to the first, but which one a resolver lists first is the name owner's choice."""
    outside, inside = receivers
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{OUTSIDE}/32"]
    monkeypatch.setattr(
        "notifications.transports.resolve_host", lambda host, port: [OUTSIDE, INSIDE]
    )

    assert _deliver(f"http://mixed.example.test:{outside.port}/in") == "failed"
    assert outside.requests == inside.requests == []


def test_the_connection_goes_to_the_first_checked_address_resolved_once(
    receivers, monkeypatch, settings
):
    outside, inside = receivers
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{OUTSIDE}/32", f"{INSIDE}/32"]
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return [OUTSIDE, INSIDE] if len(lookups) == 1 else [INSIDE]

    monkeypatch.setattr("notifications.transports.resolve_host", resolver)

    assert _deliver(f"http://two.example.test:{outside.port}/in") == "sent"

    assert lookups == ["two.example.test"]
    assert len(outside.requests) == 1
    assert inside.requests == []
