"""Webhook endpoints and the signed events queued for them through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from caseowner.process_cache import ProcessCache
from notifications.enqueue import outbox_holds
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


_ACTIVE: ProcessCache[list[WebhookEndpoint]] = ProcessCache("webhook-endpoints")


def webhook_endpoints_active(scope: str) -> list[WebhookEndpoint]:
    """The active endpoints of ``scope``, in the order they were registered: kept in the
    process (every event of every write asks), read afresh after any endpoint changed."""
    return list(
        _ACTIVE.get(
            scope,
            lambda: list(
                WebhookEndpoint.objects.filter(scope=scope, is_active=True).order_by("id")
            ),
        )
    )


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="webhook_endpoints_changed_save")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="webhook_endpoints_changed_delete")
def _endpoints_changed(**kwargs: object) -> None:
    _ACTIVE.changed()


def webhook_emit(
    *,
    scope: str,
    event: str,
    payload: dict | Callable[[], dict],
    dedupe_key: str,
    order: str = "",
    tags: Sequence[str] = (),
    listening: Sequence[WebhookEndpoint] | None = None,
) -> int:
    """Queue ``event`` for every active endpoint of ``scope``, in the caller's transaction.

    Each endpoint gets its own outbox row (own retries, own dedupe key derived from
    ``dedupe_key``); returns how many were queued. ``payload`` must be JSON-serialisable; a
    callable is called only when some endpoint listens. Events with the same ``order`` (e.g.
    ``case:7``) reach each endpoint in the order they were queued; ``tags`` are the rows' own
    (e.g. what an erasure finds them by). ``listening``: the scope's active endpoints when
    the caller has read them already (``webhook_endpoints_active``: one query for several
    events). Inside an ``outbox_batch`` the rows are written with the batch's, and every
    endpoint's row is counted (a key used before is found out only then).
    """
    endpoints = [
        endpoint
        for endpoint in (webhook_endpoints_active(scope) if listening is None else listening)
        if not endpoint.events or event in endpoint.events
    ]
    if not endpoints:
        return 0
    later = outbox_holds()
    data = payload() if callable(payload) else payload
    queued = 0
    now = timezone.now()
    for endpoint in endpoints:
        ordered = f"webhook:{endpoint.pk}:{order}" if order else ""
        context = {"event": event, "scope": scope, "key": dedupe_key, "data": data}
        notification = notification_enqueue(
            later=True,
            recipient=Recipient(address=endpoint.url, name=scope, kind=RecipientKind.SYSTEM),
            template=event,
            context={**context, "order": ordered} if ordered else context,
            dedupe_key=f"{dedupe_key}:webhook:{endpoint.pk}",
            send_after=now,
            tags=[f"webhook:{endpoint.pk}", *([ordered] if ordered else []), *tags],
            channel=NotificationChannel.WEBHOOK,
            webhook_endpoint=endpoint,
        )
        queued += notification is not None or later
    return queued
