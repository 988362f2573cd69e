"""Webhook endpoints and the signed events queued for them through the outbox."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from notifications.models import NotificationChannel, RecipientKind, WebhookEndpoint
from notifications.services import Recipient, notification_enqueue
from notifications.transports import webhook_url_check


def webhook_endpoint_check(*, url: str, secret: str) -> None:
    """The rules every endpoint obeys, wherever it is entered (service or admin)."""
    if len(secret) < 16:
        raise ValueError("a webhook secret needs at least 16 characters")
    webhook_url_check(url, resolve=False)


def webhook_endpoint_register(
    *, scope: str, url: str, secret: str, events: Sequence[str] = (), description: str = ""
) -> WebhookEndpoint:
    """Register a URL to receive the signed events of ``scope``."""
    webhook_endpoint_check(url=url, secret=secret)
    return WebhookEndpoint.objects.create(
        scope=scope, url=url, secret=secret, events=list(events), description=description
    )


def webhook_emit(*, scope: str, event: str, payload: dict, dedupe_key: str) -> int:
    """Queue ``event`` for every active endpoint of ``scope``, in the caller's transaction.

    Each endpoint gets its own outbox row (own retries, own dedupe key derived from
    ``dedupe_key``); returns how many were queued. ``payload`` must be JSON-serialisable.
    """
    queued = 0
    now = timezone.now()
    for endpoint in WebhookEndpoint.objects.filter(scope=scope, is_active=True).order_by("id"):
        if endpoint.events and event not in endpoint.events:
            continue
        notification = notification_enqueue(
            recipient=Recipient(address=endpoint.url, name=scope, kind=RecipientKind.SYSTEM),
            template=event,
            context={"event": event, "scope": scope, "key": dedupe_key, "data": payload},
            dedupe_key=f"{dedupe_key}:webhook:{endpoint.pk}",
            send_after=now,
            tags=[f"webhook:{endpoint.pk}"],
            channel=NotificationChannel.WEBHOOK,
            webhook_endpoint=endpoint,
        )
        queued += notification is not None
    return queued
