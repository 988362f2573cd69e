"""Queuing several messages at once: three statements whatever their number, and each
message keeps the single-message rules (an empty address or a used key queues nothing)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from notifications.models import DeliveryLog, Notification, NotificationTag
from notifications.services import (
    Outgoing,
    Recipient,
    notification_cancel,
    notification_enqueue_many,
    outbox_archive_batch,
)
from tests.notifications.conftest import T0

pytestmark = pytest.mark.django_db


def message(key: str, address: str = "ada@example.org", tags: tuple[str, ...] = ("t",)):
    return Outgoing(
        recipient=Recipient(address=address, name="Ada Okafor"),
        template="notifications/email/message",
        context={"subject": "Hello", "body": key},
        dedupe_key=key,
        tags=tags,
    )


@pytest.mark.parametrize("size", [1, 10])
def test_a_batch_is_queued_in_three_statements(size, django_assert_num_queries, frozen):
    # INSERT … ON CONFLICT DO NOTHING RETURNING, the delivery-log look-up, the tags: on
    # PostgreSQL one statement with the check and the tags inside the insert
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        queued = notification_enqueue_many([message(f"k{i}") for i in range(size)])
    assert all(n is not None and n.pk for n in queued)
    stored = dict(Notification.objects.values_list("pk", "created_at"))
    assert {n.pk: n.created_at for n in queued} == stored  # the database's own clock
    assert all(n.send_after == T0 for n in queued)
    assert NotificationTag.objects.count() == size


def test_used_keys_empty_addresses_and_repeats_queue_nothing_and_the_rest_is_queued(enqueue):
    enqueue("used")
    with transaction.atomic():
        queued = notification_enqueue_many(
            [message("new"), message("used"), message("blank", address=""), message("new")]
        )
    assert [n is not None for n in queued] == [True, False, False, False]
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == ["new", "used"]
    assert queued[0].context == {"subject": "Hello", "body": "new"}


def test_a_key_already_in_the_delivery_log_is_refused_and_its_row_removed(
    enqueue, frozen, settings
):
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 0
    enqueue("archived")
    notification_cancel(key_prefix="archived")
    assert outbox_archive_batch() == 1

    queued = notification_enqueue_many([message("archived"), message("fresh")])

    assert queued[0] is None and queued[1] is not None
    assert DeliveryLog.objects.filter(dedupe_key="archived").exists()
    assert list(Notification.objects.values_list("dedupe_key", flat=True)) == ["fresh"]
    assert list(NotificationTag.objects.values_list("notification_id", flat=True)) == [queued[1].pk]


def test_cancelling_by_several_tags_is_one_statement(enqueue, django_assert_num_queries):
    for key in ("a", "b", "c"):
        enqueue(key, tags=[f"commitment:{key}"])
    with django_assert_num_queries(1):
        assert notification_cancel(tags=["commitment:a", "commitment:b"]) == 2
    assert Notification.objects.get(dedupe_key="c").status == "pending"
