"""One service call, one write of its outbox rows (``outbox_batch``), and the rows every
write reads kept in the process until they change (``caseowner.process_cache``)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import webhooks
from notifications.models import Notification, NotificationTag, WebhookEndpoint
from notifications.services import (
    Outgoing,
    Recipient,
    notification_enqueue,
    notification_enqueue_many,
    outbox_batch,
)
from notifications.webhooks import webhook_emit, webhook_endpoints_active

pytestmark = pytest.mark.django_db


def message(key: str) -> Outgoing:
    return Outgoing(
        recipient=Recipient(address="ada@example.org", name="Ada Okafor"),
        template="notifications/email/message",
        context={"subject": "Hello", "body": key},
        dedupe_key=key,
        tags=("t",),
    )


def inserts(captured: CaptureQueriesContext) -> int:
    return sum(
        'INSERT INTO "notifications_notification"' in q["sql"]  # PostgreSQL's in a WITH
        for q in captured.captured_queries
    )


def test_the_held_messages_go_in_one_insert_before_the_block_ends(frozen):
    with CaptureQueriesContext(connection) as captured, outbox_batch():
        for i in range(4):
            assert notification_enqueue_many([message(f"k{i}")], later=True) == [None]
        assert not Notification.objects.exists()  # nothing written yet
    assert inserts(captured) == 1
    assert list(Notification.objects.order_by("id").values_list("dedupe_key", flat=True)) == [
        "k0",
        "k1",
        "k2",
        "k3",
    ]
    assert NotificationTag.objects.count() == 4


def test_a_message_whose_row_is_read_takes_the_held_ones_with_it_in_order(frozen):
    with CaptureQueriesContext(connection) as captured, outbox_batch():
        notification_enqueue_many([message("first")], later=True)
        row = notification_enqueue(
            recipient=Recipient(address="ada@example.org", name="Ada Okafor"),
            template="notifications/email/message",
            context={},
            dedupe_key="read",
        )
        assert row is not None and row.dedupe_key == "read" and row.pk
        # a used key is still None to the caller who reads it
        assert notification_enqueue_many([message("first")]) == [None]
    assert inserts(captured) == 2
    assert list(Notification.objects.order_by("id").values_list("dedupe_key", flat=True)) == [
        "first",
        "read",
    ]


def test_a_block_that_fails_writes_nothing_of_its_own(frozen):
    with outbox_batch():
        notification_enqueue_many([message("kept")], later=True)
        with pytest.raises(RuntimeError), outbox_batch():
            notification_enqueue_many([message("dropped")], later=True)
            # written at once here (the caller reads it), the held "kept" with it: both are
            # rolled back with the inner savepoint, and "kept" is held again
            notification_enqueue_many([message("also dropped")])
            raise RuntimeError("refused")
    assert set(Notification.objects.values_list("dedupe_key", flat=True)) == {"kept"}


def test_a_message_queued_under_a_savepoint_of_its_own_is_written_at_once(frozen):
    with outbox_batch():
        try:
            with transaction.atomic():
                notification_enqueue_many([message("inside")], later=True)
                assert Notification.objects.filter(dedupe_key="inside").exists()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        notification_enqueue_many([message("after")], later=True)
    assert set(Notification.objects.values_list("dedupe_key", flat=True)) == {"after"}


def test_without_a_batch_later_writes_at_once(frozen):
    assert notification_enqueue_many([message("now")], later=True)[0] is not None


def endpoint(scope: str, url: str = "https://hooks.example.org/a") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(scope=scope, url=url, secret="s" * 32)


def test_webhook_endpoints_are_kept_and_a_change_takes_effect_at_once(
    django_assert_num_queries,
):
    first = endpoint("team:7")
    webhooks._ACTIVE._pending().clear()  # as if the endpoint had been committed long ago
    assert webhook_endpoints_active("team:7") == [first]
    with django_assert_num_queries(0):
        assert webhook_endpoints_active("team:7") == [first]
    second = endpoint("team:7", "https://hooks.example.org/b")
    assert webhook_endpoints_active("team:7") == [first, second]
    second.is_active = False
    second.save()
    assert webhook_endpoints_active("team:7") == [first]
    first.delete()
    assert webhook_endpoints_active("team:7") == []


def test_endpoints_read_in_the_transaction_that_changed_them_are_not_kept():
    with transaction.atomic():
        endpoint("team:8")
        assert len(webhook_endpoints_active("team:8")) == 1
        transaction.set_rollback(True)
    assert webhook_endpoints_active("team:8") == []


def test_emitting_inside_a_batch_writes_with_the_batch(frozen):
    endpoint("team:9")
    with outbox_batch():
        assert webhook_emit(scope="team:9", event="case.opened", payload={}, dedupe_key="e1") == 1
        assert not Notification.objects.exists()
    assert Notification.objects.get().dedupe_key.startswith("e1:webhook:")
