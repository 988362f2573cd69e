"""The outbox end to end with real parts: PostgreSQL, Redis, Celery beat and worker
processes, and an SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from notifications.services import Attachment, Recipient, notification_cancel, notification_enqueue
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def queue(key: str, address: str = "", **kwargs) -> Notification:
    n = notification_enqueue(
        recipient=Recipient(address=address or f"{key}@example.org", name="Ada Okafor"),
        template="notifications/email/message",
        context={
            "subject": f"About {key}",
            "body": f"Body of {key}",
            "customer_name": "Mrs Okafor",
            "case_ref": "CASE-000123",
        },
        dedupe_key=key,
        **kwargs,
    )
    assert n is not None
    return n


def all_sent(count: int) -> bool:
    return Notification.objects.filter(status=NotificationStatus.SENT).count() == count


def test_a_worker_on_redis_delivers_to_smtp_with_subject_body_and_message_id(
    outbox_processes, smtp_sink
):
    with transaction.atomic():
        first = queue(
            "n1", attachments=[Attachment("visit.ics", "text/calendar", "BEGIN:VCALENDAR")]
        )
        second = queue("n2")
    outbox_processes.start()

    wait_for(lambda: smtp_sink.count() == 2 and all_sent(2), timeout=30)

    received = {r.message_id: r for r in smtp_sink.snapshot()}
    assert set(received) == {first.message_id, second.message_id}
    mail = received[first.message_id]
    assert mail.subject == "[CASE-000123] About n1"
    assert "Dear Mrs Okafor," in mail.text
    assert "Body of n1" in mail.text
    assert mail.to == "Ada Okafor <n1@example.org>"
    assert [a.get_filename() for a in mail.message.iter_attachments()] == ["visit.ics"]
    first.refresh_from_db()
    assert first.provider_message_id == first.message_id
    assert first.attempts == 1


def test_rolled_back_and_cancelled_notifications_are_never_sent(outbox_processes, smtp_sink):
    soon = timezone.now() + timedelta(seconds=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        queue("rolled-back")
        raise RuntimeError("the change that caused it failed")
    cancelled = queue("reminder", tags=["commitment:1"], send_after=soon)
    marker = queue("marker", send_after=soon + timedelta(milliseconds=200))
    assert notification_cancel(tag="commitment:1") == 1
    outbox_processes.start()

    # The marker is due after the cancelled reminder: once it arrives, the sweep has passed.
    wait_for(lambda: all_sent(1), timeout=30)

    assert [r.message_id for r in smtp_sink.snapshot()] == [marker.message_id]
    cancelled.refresh_from_db()
    assert cancelled.status == NotificationStatus.CANCELLED


def test_a_permanent_rejection_fails_with_the_reason_and_others_are_delivered(
    outbox_processes, smtp_sink
):
    smtp_sink.reject("gone@example.org")
    with transaction.atomic():
        bad = queue("bad", address="gone@example.org")
        for i in range(10):
            queue(f"ok{i}")
    outbox_processes.start()

    wait_for(lambda: all_sent(10), timeout=30)
    bad = wait_for(
        lambda: Notification.objects.filter(pk=bad.pk, status=NotificationStatus.FAILED).first(),
        timeout=10,
    )

    assert bad.attempts == 1
    assert "550" in bad.last_error and "no such user" in bad.last_error
    assert smtp_sink.count() == 10
    assert smtp_sink.duplicates() == {}


def test_an_smtp_server_refusing_for_a_while_is_retried_then_delivered(outbox_processes, smtp_sink):
    smtp_sink.refuse_temporarily(2.0)
    with transaction.atomic():
        queued = [queue(f"n{i}") for i in range(20)]
    outbox_processes.start()

    wait_for(lambda: all_sent(20), timeout=40)

    assert smtp_sink.refusals > 0
    assert set(smtp_sink.by_message_id()) == {n.message_id for n in queued}
    assert smtp_sink.duplicates() == {}
    retried = Notification.objects.filter(attempts__gt=1)
    assert retried.exists()
    assert all("451" in n.last_error for n in retried)


def test_a_webhook_is_posted_signed_and_retried_through_the_outbox(
    outbox_processes, webhook_receiver, settings
):
    import hashlib
    import hmac
    import json

    from notifications.webhooks import webhook_emit, webhook_endpoint_register

    secret = "integration-secret-0123456789"
    # The receiver listens on loopback, which webhooks never reach unless allowed: here and
    # in the worker processes.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    outbox_processes.env["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    webhook_endpoint_register(scope="team:1", url=webhook_receiver.url, secret=secret)
    webhook_receiver.fail_first = 2
    with transaction.atomic():
        assert (
            webhook_emit(
                scope="team:1",
                event="case.opened",
                payload={"ref": "CASE-000001"},
                dedupe_key="case:1:opened",
            )
            == 1
        )
    outbox_processes.start()

    [delivered] = wait_for(webhook_receiver.delivered, timeout=30)

    body = delivered["body"]
    stamp = delivered["headers"]["X-Caseowner-Timestamp"]
    signed = stamp.encode() + b"." + body
    signature = f"t={stamp},sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert delivered["headers"]["X-Caseowner-Signature"] == signature
    assert json.loads(body)["data"] == {"ref": "CASE-000001"}
    assert len(webhook_receiver.requests) == 3  # two refusals, then delivered
    ids = {r["headers"]["X-Caseowner-Delivery"] for r in webhook_receiver.requests}
    assert len(ids) == 1  # every retry is recognisably the same delivery
    wait_for(lambda: all_sent(1), timeout=10)
