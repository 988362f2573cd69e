"""Batched delivery under faults: a worker SIGKILLed in the middle of a batch it is sending
over one SMTP session. Every message still arrives; a copy is possible only for the message
whose send had completed when the worker died, and it carries the same Message-ID."""

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

BATCH = 100


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(outbox_processes, smtp_sink):
    outbox_processes.env.update(OUTBOX_DELIVERY_BATCH=str(BATCH), OUTBOX_MAX_IN_FLIGHT="400")
    expected = queue_many(400, prefix="batch")
    outbox_processes.beat()
    worker = outbox_processes.worker(concurrency=1)

    # Halfway through the second batch of the only pool process.
    wait_for(lambda: smtp_sink.count() >= BATCH + BATCH // 2, timeout=120)
    worker.kill()
    before_kill = {r.message_id for r in smtp_sink.snapshot()}
    in_flight = Notification.objects.filter(status=NotificationStatus.SENDING).count()
    worker.start()

    wait_for(lambda: sent_count() == 400, timeout=150)

    received = smtp_sink.by_message_id()
    duplicates = smtp_sink.duplicates()
    report(
        "worker SIGKILL mid-batch",
        queued=400,
        batch=BATCH,
        received_before_kill=len(before_kill),
        claimed_unsent_at_kill=in_flight,
        delivered_unique=len(received),
        duplicates=sum(duplicates.values()),
    )
    assert in_flight > 0  # claims of the interrupted batch were waiting for their lease
    assert set(received) == set(expected)  # none lost, nothing foreign
    assert set(duplicates) <= before_kill
    assert sum(duplicates.values()) <= 1  # only the one message in flight in that process
    assert_same_message_for_each_copy(smtp_sink)
