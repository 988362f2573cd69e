"""A worker run as the runbook runs it (``--pool threads --concurrency 4``), SIGKILLed while
its threads are sending: every message still arrives, and a copy is possible only for the
message each thread had in flight on its own SMTP connection (one per connection, with the
same Message-ID)."""

from __future__ import annotations

import pytest

from notifications.models import Notification, NotificationStatus
from tests.integration.celery_worker import wait_for
from tests.integration.test_outbox_faults import (
    assert_same_message_for_each_copy,
    queue_many,
    report,
    sent_count,
)

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 25
THREADS = 4


def test_a_threaded_worker_killed_mid_batch_loses_nothing(outbox_processes, smtp_sink):
    outbox_processes.env.update(OUTBOX_DELIVERY_BATCH=str(BATCH), OUTBOX_MAX_IN_FLIGHT="200")
    expected = queue_many(200, prefix="threads")
    outbox_processes.beat()
    worker = outbox_processes.worker(concurrency=THREADS, pool="threads")

    wait_for(lambda: smtp_sink.count() >= 2 * BATCH, timeout=120)
    worker.kill()
    before_kill = {r.message_id for r in smtp_sink.snapshot()}
    in_flight = Notification.objects.filter(status=NotificationStatus.SENDING).count()
    worker.start()

    wait_for(lambda: sent_count() == 200, timeout=150)

    received = smtp_sink.by_message_id()
    duplicates = smtp_sink.duplicates()
    report(
        "threaded worker SIGKILL mid-batch",
        queued=200,
        threads=THREADS,
        received_before_kill=len(before_kill),
        claimed_unsent_at_kill=in_flight,
        delivered_unique=len(received),
        duplicates=sum(duplicates.values()),
    )
    assert in_flight > 0
    assert set(received) == set(expected)  # none lost, nothing foreign
    assert set(duplicates) <= before_kill
    assert sum(duplicates.values()) <= THREADS  # at most the one in flight on each connection
    assert_same_message_for_each_copy(smtp_sink)
