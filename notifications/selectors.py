"""Reads on the outbox for operations: counts, lateness, failures."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from notifications.models import Notification, NotificationStatus


def outbox_status(*, now: datetime | None = None, failures: int = 10) -> dict:
    """What monitoring needs, in four queries on the hot outbox (never the delivery log).

    ``oldest_due_pending_seconds`` is how late the oldest due message is: it grows when no
    sweep or worker runs. ``expired_leases`` counts rows whose worker died, not yet reclaimed.
    """
    now = now or timezone.now()
    counts = {status: 0 for status in NotificationStatus.values}
    counts.update(
        Notification.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    oldest_due = (
        Notification.objects.filter(status=NotificationStatus.PENDING, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("send_after", flat=True)
        .first()
    )
    expired_leases = Notification.objects.filter(
        status=NotificationStatus.SENDING, lease_expires_at__lt=now
    ).count()
    recent_failures = [
        {
            "id": row["id"],
            "channel": row["channel"],
            "recipient": row["recipient_address"],
            "template": row["template"],
            "attempts": row["attempts"],
            "error": row["last_error"],
            "failed_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        }
        for row in Notification.objects.filter(status=NotificationStatus.FAILED)
        .order_by("-created_at")
        .values(
            "id",
            "channel",
            "recipient_address",
            "template",
            "attempts",
            "last_error",
            "finished_at",
        )[:failures]
    ]
    return {
        "now": now.isoformat(),
        "counts": counts,
        "oldest_due_pending_seconds": round((now - oldest_due).total_seconds(), 3)
        if oldest_due
        else 0.0,
        "expired_leases": expired_leases,
        "recent_failures": recent_failures,
    }
