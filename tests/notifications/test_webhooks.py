from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import urllib3

from notifications.models import Notification, NotificationStatus, WebhookEndpoint
from notifications.services import notification_deliver, outbox_claim_batch
from notifications.webhooks import webhook_emit, webhook_endpoint_register

pytestmark = pytest.mark.django_db

SECRET = "s3cret-s3cret-s3cret"


@pytest.fixture
def posts(monkeypatch):
    """Captured webhook POSTs; set ``posts.answer`` to the status code to return."""

    class Calls(list):
        fake = None

    calls = Calls()

    def fake_post(url, *, address, body, headers, timeout):
        calls.append({"url": url, "address": address, "body": body, "headers": headers})
        answer = fake_post.answer
        if isinstance(answer, Exception):
            raise answer
        return answer

    fake_post.answer = 204
    monkeypatch.setattr("notifications.transports.webhook_post", fake_post)
    # No DNS here: every name resolves to a public address.
    monkeypatch.setattr(
        "notifications.transports.resolve_host", lambda host, port: ["93.184.215.14"]
    )
    calls.fake = fake_post
    return calls


def _endpoint(scope="team:1", url="https://hooks.example.com/in", **kwargs):
    return webhook_endpoint_register(scope=scope, url=url, secret=SECRET, **kwargs)


def test_emit_queues_one_notification_per_active_endpoint_of_the_scope(frozen):
    first = _endpoint()
    second = _endpoint(url="https://other.example.com/in")
    _endpoint(events=["commitment.kept"])  # not subscribed to this event
    inactive = _endpoint()
    inactive.is_active = False
    inactive.save()
    _endpoint(scope="team:2")

    queued = webhook_emit(
        scope="team:1",
        event="case.opened",
        payload={"ref": "CASE-000001"},
        dedupe_key="case:1:opened",
    )

    assert queued == 2
    rows = Notification.objects.order_by("id")
    assert [r.webhook_endpoint_id for r in rows] == [first.pk, second.pk]
    assert rows[0].dedupe_key == f"case:1:opened:webhook:{first.pk}"
    assert rows[0].channel == "webhook"


def test_emit_twice_with_the_same_key_queues_once(frozen):
    _endpoint()
    assert webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k") == 1
    assert webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k") == 0


def test_emit_without_endpoints_queues_nothing():
    assert webhook_emit(scope="team:9", event="e", payload={}, dedupe_key="k") == 0


def test_a_webhook_is_posted_as_json_signed_with_hmac_sha256(frozen, posts):
    _endpoint()
    webhook_emit(
        scope="team:1", event="case.opened", payload={"ref": "CASE-000001"}, dedupe_key="k"
    )
    [claim] = outbox_claim_batch()

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == "sent"

    [call] = posts
    body = call["body"]
    stamp = call["headers"]["X-Caseowner-Timestamp"]
    assert int(stamp) == int(time.time())  # the frozen clock
    signed = stamp.encode() + b"." + body
    expected = f"t={stamp},sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert call["headers"]["X-Caseowner-Signature"] == expected
    assert call["headers"]["X-Caseowner-Event"] == "case.opened"
    document = json.loads(body)
    assert document["event"] == "case.opened"
    assert document["data"] == {"ref": "CASE-000001"}
    assert document["key"] == "k"
    assert call["headers"]["X-Caseowner-Delivery"] == document["id"]


@pytest.mark.parametrize(
    ("answer", "outcome", "status"),
    [
        (500, "retry", NotificationStatus.PENDING),
        (429, "retry", NotificationStatus.PENDING),
        (urllib3.exceptions.ProtocolError("down"), "retry", NotificationStatus.PENDING),
        (410, "failed", NotificationStatus.FAILED),
    ],
)
def test_webhook_errors_retry_unless_the_receiver_refuses(frozen, posts, answer, outcome, status):
    _endpoint()
    webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k")
    [claim] = outbox_claim_batch()
    posts.fake.answer = answer

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == outcome
    assert Notification.objects.get().status == status


def test_a_disabled_endpoint_fails_its_queued_webhooks(frozen, posts):
    endpoint = _endpoint()
    webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k")
    endpoint.is_active = False
    endpoint.save()
    [claim] = outbox_claim_batch()

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == "failed"
    assert posts == []


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError):
        webhook_endpoint_register(scope="team:1", url="https://x.example.com", secret="short")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "ftp://hooks.example.com/in",
    ],
)
def test_an_endpoint_inside_the_network_is_refused_at_registration(url):
    with pytest.raises(ValueError, match="non-public|http"):
        _endpoint(url=url)
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_inside_is_refused_at_delivery(frozen, posts, monkeypatch):
    _endpoint(url="https://rebound.example.com/in")
    webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k")
    [claim] = outbox_claim_batch()
    monkeypatch.setattr("notifications.transports.resolve_host", lambda host, port: ["10.0.0.7"])

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == "failed"
    assert not posts
    assert "non-public" in Notification.objects.get().last_error


def test_an_allowed_network_may_receive_webhooks(frozen, posts, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    _endpoint(url="http://10.20.3.4/in")
    webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k")
    [claim] = outbox_claim_batch()

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == "sent"
    assert posts[0]["url"] == "http://10.20.3.4/in"
    assert posts[0]["address"] == "10.20.3.4"


def test_a_refusal_records_the_status_not_the_receivers_answer(frozen, posts):
    _endpoint()
    webhook_emit(scope="team:1", event="e", payload={}, dedupe_key="k")
    [claim] = outbox_claim_batch()
    posts.fake.answer = 410

    notification_deliver(notification_id=claim.notification_id, attempt=1)
    assert Notification.objects.get().last_error == "HTTP 410"
