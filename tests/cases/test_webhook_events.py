"""Every event of a case reaches a real HTTP receiver on loopback, signed, in order per case.

The outbox delivers in-process here (claim, then deliver), over real HTTP to a
``http.server`` thread; each delivery's signature is checked as a receiver would check it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cases.conversations.services import NewContact, contact_record
from cases.handoffs import services as hs
from cases.models import CaseStatus, ContactDirection
from cases.services import case_change_status, case_open
from cases.task_services import owner_task_done
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver, outbox_claim_batch
from notifications.transports import EmailTransport, PermanentError
from notifications.webhook_endpoints import webhook_endpoint_create, webhook_secret_rotate
from tests.factories import CustomerFactory, offer

pytestmark = pytest.mark.django_db


class Receiver:
    """Records POSTs; answers 503 to the first ``fail_first``, then 204."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                failing = receiver.fail_first > 0
                receiver.fail_first -= failing
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "ok": not failing}
                )
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def verified(request: dict[str, Any], secret: str) -> dict[str, Any]:
    """The receiver's check, as README shows it: any ``sha256=`` of the header matches
    HMAC-SHA256 of ``"<t>." + body`` with the secret it holds."""
    header = request["headers"]["X-Caseowner-Signature"]
    parts = [p.split("=", 1) for p in header.split(",")]
    stamp = next(v for k, v in parts if k == "t")
    assert stamp == request["headers"]["X-Caseowner-Timestamp"]
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + request["body"], hashlib.sha256)
    assert any(hmac.compare_digest(mac.hexdigest(), v) for k, v in parts if k == "sha256"), (
        "signature does not verify"
    )
    return json.loads(request["body"])


@pytest.fixture
def hook(world, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = Receiver()
    endpoint, secret = webhook_endpoint_create(scope=f"team:{world['team'].pk}", url=receiver.url)
    receiver.endpoint, receiver.secret = endpoint, secret
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def deliver() -> list[str]:
    """One pass of the outbox: every due row claimed and delivered; the outcomes."""
    return [
        notification_deliver(notification_id=c.notification_id, attempt=c.attempt)
        for c in outbox_claim_batch()
    ]


def received(hook: Receiver) -> list[dict[str, Any]]:
    """The documents delivered so far (their signatures verified), in arrival order."""
    return [verified(r, hook.secret) for r in hook.requests if r["ok"]]


def one(hook: Receiver, event: str) -> dict[str, Any]:
    deliver()
    [document] = [d for d in received(hook) if d["event"] == event]
    return document


def test_case_opened(world, hook):
    customer = CustomerFactory()
    case = case_open(
        customer=customer,
        team=world["team"],
        channel="email",
        subject="Bill",
        by=world["owner"],
        owner=world["owner"],
    )
    document = one(hook, "case.opened")
    data = document["data"]
    assert data["case"]["ref"] == case.ref
    assert data["case"]["owner"]["id"] == world["owner"].pk
    assert data["actor"] == world["owner"].pk
    assert data["assigned_by_rule"] is False
    assert isinstance(data["sequence"], int)


@pytest.mark.parametrize(
    ("steps", "event"),
    [
        ([CaseStatus.CLOSED], "case.closed"),
        ([CaseStatus.RESOLVED], "case.resolved"),
        ([CaseStatus.CLOSED, CaseStatus.OPEN], "case.reopened"),
        ([CaseStatus.WAITING], "case.status_changed"),
    ],
)
def test_status_events(world, hook, steps, event):
    case = world["case"]
    for status in steps:
        case = case_change_status(case=case, status=status, by=world["owner"], reason="asked")
    data = one(hook, event)["data"]
    assert data["to"] == steps[-1]
    assert data["case"]["status"] == steps[-1]


def test_handoff_offered_and_accepted(world, hook):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    deliver()
    # (the new owner's follow-up, "confirm the hand-off worked", is a commitment.made)
    documents = [d for d in received(hook) if not d["event"].startswith("commitment.")]
    events = [d["event"] for d in documents]
    assert events == ["handoff.offered", "handoff.accepted", "case.owner_changed"]
    offered, accepted = documents[0]["data"], documents[1]["data"]
    assert offered["handoff"] == accepted["handoff"] == handoff.pk
    assert offered["to_agent"] == world["receiver"].pk
    assert accepted["from_agent"] == world["owner"].pk
    assert offered["sequence"] < accepted["sequence"]


def test_handoff_declined(world, hook):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_decline(handoff=handoff, by=world["receiver"], reason="On leave tomorrow")
    data = one(hook, "handoff.declined")["data"]
    assert (data["handoff"], data["reason"]) == (handoff.pk, "On leave tomorrow")


def test_handoff_cancelled(world, hook):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_cancel(handoff=handoff, by=world["owner"])
    assert one(hook, "handoff.cancelled")["data"]["handoff"] == handoff.pk


def test_contact_recorded_and_customer_replied(world, hook):
    recorded = contact_record(
        case=world["case"],
        contact=NewContact(
            direction=ContactDirection.FROM_CUSTOMER, channel="phone", summary="Asked again"
        ),
        by=world["owner"],
    )
    deliver()
    documents = received(hook)
    assert [d["event"] for d in documents] == ["contact.recorded", "customer.replied"]
    for document in documents:
        assert document["data"]["contact"] == recorded.contact.pk
        assert document["data"]["summary"] == "Asked again"
    assert documents[0]["data"]["automatic"] is False


def test_task_created_task_done_and_notice_failed_for_no_route(world, hook):
    phone_only = CustomerFactory(email="", phone="+442079460000")
    case = case_open(
        customer=phone_only, team=world["team"], channel="email", subject="Bill", by=world["owner"]
    )
    deliver()
    documents = {d["event"]: d["data"] for d in received(hook)}
    assert documents["notice.failed"]["reason"].startswith("no_route:")
    assert documents["notice.failed"]["template"] == "cases/email/case_opened"
    task_id = documents["task.created"]["task"]
    assert documents["task.created"]["case"]["ref"] == case.ref

    from cases.models import OwnerTask

    owner_task_done(
        task=OwnerTask.objects.get(pk=task_id), by=world["owner"], summary="Called them"
    )
    data = one(hook, "task.done")["data"]
    assert data["task"] == task_id
    assert isinstance(data["call"], int)


def test_notice_failed_when_a_notice_is_refused(world, hook, monkeypatch):
    case_open(
        customer=CustomerFactory(),
        team=world["team"],
        channel="email",
        subject="Bill",
        by=world["owner"],
    )

    def refuse(self, notification):
        raise PermanentError("550 no such user", reason="550")

    monkeypatch.setattr(EmailTransport, "send", refuse)
    deliver()  # the acknowledgement fails for good: notice.failed is queued
    data = one(hook, "notice.failed")["data"]
    assert data["reason"] == "delivery_failed"
    assert data["template"] == "cases/email/case_opened"
    assert Notification.objects.get(pk=data["notice"]).status == NotificationStatus.FAILED


def test_events_of_a_case_arrive_in_order_when_an_earlier_one_is_retried(world, hook):
    case = world["case"]
    case = case_change_status(case=case, status=CaseStatus.WAITING, by=world["owner"])
    case_change_status(case=case, status=CaseStatus.CLOSED, by=world["owner"])
    hook.fail_first = 1
    with time_machine.travel(timezone.now(), tick=False) as clock:
        deliver()  # the first is refused (503); the second waits for it
        assert len(hook.requests) == 1
        waiting = Notification.objects.get(template="case.closed")
        assert (waiting.status, waiting.attempts) == (NotificationStatus.PENDING, 0)
        # it waits until after the earlier one's next attempt, not a few seconds at a time
        retried = Notification.objects.get(template="case.status_changed")
        assert retried.send_after > timezone.now()
        assert waiting.send_after > retried.send_after
        for _ in range(10):
            clock.shift(timedelta(hours=2))
            deliver()
    assert [d["event"] for d in received(hook)] == ["case.status_changed", "case.closed"]


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(world, hook):
    old = hook.secret
    _, new = webhook_secret_rotate(endpoint_id=hook.endpoint.pk, overlap=timedelta(hours=1))
    case_change_status(case=world["case"], status=CaseStatus.WAITING, by=world["owner"])
    deliver()
    [request] = hook.requests
    verified(request, old)
    verified(request, new)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        case_change_status(case=world["case"], status=CaseStatus.OPEN, by=world["owner"])
        deliver()
    later = hook.requests[1]
    verified(later, new)
    with pytest.raises(AssertionError, match="does not verify"):
        verified(later, old)


def test_the_readme_verification_example_accepts_a_delivery_and_refuses_a_forgery(world, hook):
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    section = readme[readme.index("### Webhooks") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n", 10)]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the README's own example, as a receiver would paste it
    case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    deliver()
    [request] = hook.requests
    assert namespace["verified"](request["body"], request["headers"], hook.secret)
    assert not namespace["verified"](request["body"] + b" ", request["headers"], hook.secret)
    assert not namespace["verified"](request["body"], request["headers"], "whsec_other")


def test_handoff_expired_when_its_case_closes(world, hook):
    handoff = offer(world["case"], to=world["receiver"])
    case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    deliver()
    events = [d["event"] for d in received(hook)]
    assert events == ["handoff.offered", "case.closed", "handoff.expired"]
    assert received(hook)[2]["data"]["handoff"] == handoff.pk


def test_no_notice_failed_when_the_customer_heard_it_on_the_call(world, hook):
    phone_only = CustomerFactory(email="", phone="+442079460000")
    case_open(
        customer=phone_only, team=world["team"], channel="phone", subject="Bill", by=world["owner"]
    )
    deliver()
    events = [d["event"] for d in received(hook)]
    assert "case.opened" in events
    assert "notice.failed" not in events and "task.created" not in events
