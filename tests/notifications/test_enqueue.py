from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from notifications.models import DeliveryLog, Notification, NotificationStatus
from notifications.services import Attachment, notification_cancel, outbox_archive_batch

pytestmark = pytest.mark.django_db


def test_it_writes_a_pending_row_due_now_by_default(enqueue, frozen):
    from tests.notifications.conftest import T0

    n = enqueue(tags=["case:1", "case:1", "commitment:2"])
    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert n.send_after == T0
    assert n.tags == ["case:1", "commitment:2"]
    assert sorted(n.tag_rows.values_list("tag", flat=True)) == ["case:1", "commitment:2"]


def test_it_refuses_a_second_notification_with_the_same_key(enqueue):
    assert enqueue("same") is not None
    assert enqueue("same") is None
    assert Notification.objects.count() == 1


def test_a_refused_duplicate_leaves_the_callers_transaction_intact(enqueue):
    with transaction.atomic():
        enqueue("same")
        assert enqueue("same") is None
        second = enqueue("other")
    assert second is not None
    assert Notification.objects.count() == 2


def test_it_refuses_a_key_whose_notification_was_archived(enqueue, frozen, settings):
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 0
    enqueue("kept")
    notification_cancel(key_prefix="kept")
    assert outbox_archive_batch() == 1
    assert DeliveryLog.objects.filter(dedupe_key="kept").exists()
    assert enqueue("kept") is None
    assert not Notification.objects.exists()


def test_a_notification_in_a_rolled_back_transaction_does_not_exist(enqueue):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue("rolled-back")
        raise RuntimeError("the caller's change failed")
    assert not Notification.objects.exists()


def test_an_empty_address_queues_nothing(enqueue):
    from notifications.services import Recipient

    assert enqueue(recipient=Recipient(address="", name="Nobody")) is None


def test_attachments_are_kept_as_json(enqueue):
    n = enqueue(attachments=[Attachment("visit.ics", "text/calendar", "BEGIN:VCALENDAR")])
    assert n.attachments == [
        {"filename": "visit.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR"}
    ]


def test_cancel_by_tag_cancels_only_pending_rows_with_that_tag(enqueue, frozen):
    from tests.notifications.conftest import T0

    a = enqueue("a", tags=["commitment:1"], send_after=T0 + timedelta(hours=1))
    b = enqueue("b", tags=["commitment:1"])
    other = enqueue("c", tags=["commitment:2"])
    Notification.objects.filter(pk=b.pk).update(status=NotificationStatus.SENT)

    assert notification_cancel(tag="commitment:1") == 1

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "cancelled", b.pk: "sent", other.pk: "pending"}


def test_cancel_by_key_prefix(enqueue):
    enqueue("commitment:7:reminder:24h")
    enqueue("commitment:7:reminder:1h")
    enqueue("commitment:70:reminder:1h")
    assert notification_cancel(key_prefix="commitment:7:") == 2


def test_cancel_needs_a_tag_or_a_prefix():
    with pytest.raises(ValueError):
        notification_cancel()
