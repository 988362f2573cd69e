"""The outbox's archive: finished rows (sent, cancelled, unroutable) move to the permanent
delivery log in batches, so the hot table holds only what is still to be sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import DeliveryLog, Notification, NotificationStatus


def outbox_archive_batch(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Move sent, cancelled and unroutable rows older than OUTBOX_ARCHIVE_AFTER_SECONDS to
    the log."""
    now = now or timezone.now()
    size = batch_size or settings.OUTBOX_BATCH_SIZE
    cutoff = now - timedelta(seconds=settings.OUTBOX_ARCHIVE_AFTER_SECONDS)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[
                    NotificationStatus.SENT,
                    NotificationStatus.CANCELLED,
                    NotificationStatus.NO_ROUTE,
                ],
                finished_at__lte=cutoff,
            )
            .order_by("finished_at")
            .defer("context", "attachments")[:size]
        )
        if not rows:
            return 0
        DeliveryLog.objects.bulk_create(
            [
                DeliveryLog(
                    id=n.pk,
                    channel=n.channel,
                    recipient_address=n.recipient_address,
                    recipient_name=n.recipient_name,
                    recipient_kind=n.recipient_kind,
                    template=n.template,
                    dedupe_key=n.dedupe_key,
                    tags=n.tags,
                    status=n.status,
                    attempts=n.attempts,
                    send_after=n.send_after,
                    sent_at=n.sent_at,
                    finished_at=n.finished_at,
                    provider_message_id=n.provider_message_id,
                    request_id=n.request_id,
                    created_at=n.created_at,
                )
                for n in rows
            ]
        )
        # The tag rows go too (one DELETE for the batch, by cascade).
        Notification.objects.filter(id__in=[n.pk for n in rows]).delete()
    return len(rows)
