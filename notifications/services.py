"""Writing to the outbox. Callers pass recipients, templates and keys; nothing about cases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import (
    DeliveryLog,
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTag,
    RecipientKind,
    WebhookEndpoint,
)


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    kind: str = RecipientKind.CUSTOMER


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: str

    def as_json(self) -> dict:
        return {"filename": self.filename, "content_type": self.content_type, "content": self.content}


class _Duplicate(Exception):
    """The dedupe key is already in the delivery log: undo the insert."""


def notification_enqueue(
    *,
    recipient: Recipient,
    template: str,
    context: dict,
    dedupe_key: str,
    send_after: datetime | None = None,
    tags: Sequence[str] = (),
    attachments: Iterable[Attachment] = (),
    channel: str = NotificationChannel.EMAIL,
    webhook_endpoint: WebhookEndpoint | None = None,
) -> Notification | None:
    """Queue one message in the caller's transaction; None if the key was used before.

    ``context`` must be JSON-serialisable: the message is rendered when it is sent.
    """
    if not recipient.address:
        return None
    tags = list(dict.fromkeys(tags))
    try:
        # A savepoint: a duplicate key leaves the caller's work intact.
        with transaction.atomic():
            notification = Notification.objects.create(
                channel=channel,
                recipient_address=recipient.address,
                recipient_name=recipient.name,
                recipient_kind=recipient.kind,
                template=template,
                context=context,
                attachments=[a.as_json() for a in attachments],
                dedupe_key=dedupe_key,
                tags=tags,
                webhook_endpoint=webhook_endpoint,
                send_after=send_after or timezone.now(),
            )
            # Checked after the insert: a row being archived at this moment holds the unique
            # key until its move commits, and is then visible here.
            if DeliveryLog.objects.filter(dedupe_key=dedupe_key).exists():
                raise _Duplicate
            if tags:
                NotificationTag.objects.bulk_create(
                    NotificationTag(notification=notification, tag=t) for t in tags
                )
            return notification
    except _Duplicate:
        return None
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


def notification_cancel(*, tag: str | None = None, key_prefix: str | None = None) -> int:
    """Cancel pending notifications by tag or dedupe-key prefix, in the caller's transaction."""
    if not tag and not key_prefix:
        raise ValueError("notification_cancel needs a tag or a key prefix")
    condition = Q(status=NotificationStatus.PENDING)
    if tag:
        condition &= Q(
            id__in=NotificationTag.objects.filter(tag=tag).values("notification_id")
        )
    if key_prefix:
        condition &= Q(dedupe_key__startswith=key_prefix)
    return Notification.objects.filter(condition).update(
        status=NotificationStatus.CANCELLED, finished_at=timezone.now()
    )


# --- webhooks -------------------------------------------------------------------------------


def webhook_endpoint_register(
    *, scope: str, url: str, secret: str, events: Sequence[str] = (), description: str = ""
) -> WebhookEndpoint:
    """Register a URL to receive the signed events of ``scope``."""
    if len(secret) < 16:
        raise ValueError("a webhook secret needs at least 16 characters")
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
