"""Writing to the outbox. Callers pass recipients, templates and keys; nothing about cases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    RecipientKind,
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
) -> Notification | None:
    """Queue one message in the caller's transaction; None if the key was used before.

    ``context`` must be JSON-serialisable: the message is rendered when it is sent.
    """
    if not recipient.address:
        return None
    try:
        with transaction.atomic():  # a savepoint: a duplicate key leaves the caller's work intact
            return Notification.objects.create(
                channel=channel,
                recipient_address=recipient.address,
                recipient_name=recipient.name,
                recipient_kind=recipient.kind,
                template=template,
                context=context,
                attachments=[a.as_json() for a in attachments],
                dedupe_key=dedupe_key,
                tags=list(tags),
                send_after=send_after or timezone.now(),
            )
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


def notification_cancel(*, tag: str | None = None, key_prefix: str | None = None) -> int:
    """Cancel pending notifications by tag or dedupe-key prefix, in the caller's transaction."""
    if not tag and not key_prefix:
        raise ValueError("notification_cancel needs a tag or a key prefix")
    condition = Q()
    if tag:
        condition &= Q(tags__contains=[tag]) if _json_contains_supported() else Q(
            tags__icontains=f'"{tag}"'
        )
    if key_prefix:
        condition &= Q(dedupe_key__startswith=key_prefix)
    return Notification.objects.filter(condition, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.CANCELLED
    )


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains
