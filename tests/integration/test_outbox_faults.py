"""Fault tests: every message is counted at the SMTP server.

A worker SIGKILLed mid-run, two sweepers at once, Redis restarted: every notification is
delivered; a duplicate is possible only for a message whose send had completed when its
worker died, and it carries the same Message-ID.
"""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, transaction

from notifications.models import Notification, NotificationStatus
from notifications.services import Recipient, notification_enqueue
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def queue_many(count: int, prefix: str = "n") -> dict[str, int]:
    """Queue ``count`` due notifications in one transaction; Message-ID → id."""
    ids = {}
    with transaction.atomic():
        for i in range(count):
            n = notification_enqueue(
                recipient=Recipient(address=f"{prefix}{i}@example.org", name=f"Customer {i}"),
                template="notifications/email/message",
                context={"subject": f"Notice {i}", "body": "Your case is in hand."},
                dedupe_key=f"{prefix}:{i}",
            )
            ids[n.message_id] = n.pk
    return ids


def sent_count() -> int:
    return Notification.objects.filter(status=NotificationStatus.SENT).count()


def report(name: str, **figures: object) -> None:
    print(f"\n[outbox fault figures] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def assert_same_message_for_each_copy(sink) -> None:
    by_id: dict[str, set[tuple[str, str]]] = {}
    for r in sink.snapshot():
        by_id.setdefault(r.message_id, set()).add((r.to, r.subject))
    assert all(len(variants) == 1 for variants in by_id.values())


def test_500_notifications_survive_a_worker_killed_mid_run(outbox_processes, smtp_sink):
    expected = queue_many(500)
    outbox_processes.beat()
    worker = outbox_processes.worker(concurrency=2)

    wait_for(lambda: smtp_sink.count() >= 150, timeout=120)
    worker.kill()
    before_kill = {r.message_id for r in smtp_sink.snapshot()}
    worker.start()

    wait_for(lambda: sent_count() == 500, timeout=150)

    received = smtp_sink.by_message_id()
    duplicates = smtp_sink.duplicates()
    report(
        "worker SIGKILL",
        queued=500,
        received_before_kill=len(before_kill),
        delivered_unique=len(received),
        messages_at_server=sum(received.values()),
        duplicates=sum(duplicates.values()),
    )
    assert set(received) == set(expected)  # none lost, nothing foreign
    # A copy only for a message the server had accepted before the kill, same Message-ID.
    assert set(duplicates) <= before_kill
    assert sum(duplicates.values()) <= 2  # at most one send in flight per pool process
    assert_same_message_for_each_copy(smtp_sink)


def test_two_beats_sweeping_at_once_send_no_duplicates(outbox_processes, smtp_sink):
    expected = queue_many(200)
    outbox_processes.beat("beat-a")
    outbox_processes.beat("beat-b")
    outbox_processes.worker(concurrency=4)

    wait_for(lambda: sent_count() == 200, timeout=120)

    received = smtp_sink.by_message_id()
    report("two beats", delivered_unique=len(received), duplicates=sum(received.values()) - 200)
    assert set(received) == set(expected)
    assert smtp_sink.duplicates() == {}


def test_two_sweepers_claiming_at_the_same_moment_never_share_a_row(
    transactional_db, postgres, monkeypatch
):
    """SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent claims are disjoint."""
    from notifications import services

    monkeypatch.setattr(services, "_dispatch", lambda claims: None)  # no broker here
    queue_many(1000)
    start = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    def sweeper(name: str) -> None:
        try:
            start.wait()
            while batch := services.outbox_claim_batch(batch_size=50):
                claimed[name].extend(c.notification_id for c in batch)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweeper, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 1000
    assert claimed["a"] and claimed["b"]  # both really took part


def test_redis_restarted_mid_run_loses_nothing(outbox_processes, smtp_sink, private_redis):
    outbox_processes.env["CELERY_BROKER_URL"] = private_redis.url
    expected = queue_many(200)
    outbox_processes.beat()
    outbox_processes.worker(concurrency=2)

    wait_for(lambda: smtp_sink.count() >= 60, timeout=120)
    private_redis.restart(down_for=0.5)  # no persistence: every queued task is gone

    wait_for(lambda: sent_count() == 200, timeout=150)

    received = smtp_sink.by_message_id()
    duplicates = smtp_sink.duplicates()
    report(
        "Redis restart",
        delivered_unique=len(received),
        messages_at_server=sum(received.values()),
        duplicates=sum(duplicates.values()),
    )
    assert set(received) == set(expected)
    assert_same_message_for_each_copy(smtp_sink)
