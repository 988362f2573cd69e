"""A key whose row the archive is moving to the delivery log while an insert of the same key
waits for it is refused: on PostgreSQL the insert, the delivery log's check and the tags are
one statement, whose snapshot cannot see the move commit; the key is looked up once more."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from notifications.models import DeliveryLog, Notification, NotificationTag
from notifications.services import (
    notification_cancel,
    notification_enqueue_many,
    outbox_archive_batch,
)
from tests.notifications.test_enqueue_many import message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL: two transactions at once"
    ),
]


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_a_key_archived_while_its_insert_waits_is_refused(enqueue, settings):
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 0
    enqueue("moving", tags=["case:1"])
    notification_cancel(key_prefix="moving")
    archiving, archived = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def archive() -> None:
        try:
            with transaction.atomic():
                results["moved"] = outbox_archive_batch()
                archiving.set()
                archived.wait(10)
        finally:
            connections.close_all()

    def insert() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                results["pid"] = cursor.fetchone()[0]
            with transaction.atomic():
                results["queued"] = notification_enqueue_many([message("moving"), message("fresh")])
        finally:
            connections.close_all()

    archiver = threading.Thread(target=archive)
    archiver.start()
    assert archiving.wait(10)
    inserter = threading.Thread(target=insert)
    inserter.start()
    deadline = time.monotonic() + 10
    while not ("pid" in results and _waiting_on_a_lock(results["pid"])):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "the insert never waited for the archive"
        time.sleep(0.02)
    archived.set()
    archiver.join(10)
    inserter.join(10)

    assert results["moved"] == 1
    queued = results["queued"]
    assert isinstance(queued, list) and queued[0] is None and queued[1] is not None
    assert DeliveryLog.objects.filter(dedupe_key="moving").exists()
    assert list(Notification.objects.values_list("dedupe_key", flat=True)) == ["fresh"]
    assert list(NotificationTag.objects.values_list("notification_id", flat=True)) == [queued[1].pk]
