"""What notifications tells the apps above it, without knowing them.

An app appends a handler from its ``AppConfig.ready()``; the outbox calls it explicitly (no
Django signals). ``delivery_failed`` handlers run, each in its own transaction, right after a
message is marked failed for good (refused, or given up on after its last attempt); a
handler's error is logged and never undoes the failure or stops the delivery loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from notifications.models import Notification

logger = logging.getLogger(__name__)

# handler(notification=Notification) — the row as it is now, status "failed", ``last_error``
delivery_failed: list[Callable[..., Any]] = []


def run_delivery_failed(notification_id: int) -> None:
    if not delivery_failed:
        return
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:  # pragma: no cover - archived between the update and here
        return
    for handler in delivery_failed:
        try:
            with transaction.atomic():
                handler(notification=notification)
        except Exception:
            logger.exception("outbox: a delivery_failed handler failed for %s", notification_id)
