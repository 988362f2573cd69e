"""Redacting the outbox for a person's right to erasure.

The caller says which rows concern the person (their addresses, and the tags of rows about
them) and how to redact a context; notifications knows nothing of what the context means.
Every id, status, attempt count, date and dedupe key stays, so delivery figures and
Message-IDs are unchanged; what a person could be recognised by goes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Q

from notifications.models import (
    DeliveryLog,
    Notification,
    NotificationStatus,
    NotificationTag,
    RecipientKind,
)


@dataclass(frozen=True)
class OutboxRedaction:
    notifications: int
    cancelled: int
    delivery_log: int


def _addressed_to(addresses: Sequence[str]) -> Q:
    wanted = [Q(recipient_address__iexact=a) for a in dict.fromkeys(addresses) if a]
    if not wanted:
        return Q(pk__in=[])
    return Q(recipient_kind=RecipientKind.CUSTOMER) & reduce(or_, wanted)


def _concerning(addresses: Sequence[str], tags: Sequence[str]) -> Q:
    tagged = Q(pk__in=NotificationTag.objects.filter(tag__in=list(tags)).values("notification"))
    return _addressed_to(addresses) | tagged


def notifications_concerning_count(*, addresses: Sequence[str], tags: Sequence[str]) -> int:
    """How many outbox rows ``notifications_redact`` would redact for the same arguments."""
    return Notification.objects.filter(_concerning(addresses, tags)).count()


def notifications_redact(
    *,
    addresses: Sequence[str],
    tags: Sequence[str],
    redact_context: Callable[[dict], dict],
    now: datetime,
) -> OutboxRedaction:
    """In the caller's transaction: customer rows addressed to ``addresses`` or carrying one
    of ``tags`` lose the address, the name, the last error and the attachments, and pending
    ones are cancelled (there is no one left to send them to); other rows with those tags
    (messages to staff about the person) keep their recipient but get ``redact_context`` of
    their context and no attachments. Delivery log rows to the person (addressed to them, or
    customer rows with one of ``tags``: a notice that had no address) lose the address and
    the name."""
    concerning = _concerning(addresses, tags)
    rows = list(Notification.objects.select_for_update().filter(concerning).order_by("pk"))
    cancelled = 0
    for row in rows:
        row.context = redact_context(row.context)
        row.attachments = []
        # Customer rows among them are to the person (the tags are of rows about them).
        if row.recipient_kind == RecipientKind.CUSTOMER:
            row.recipient_address = row.recipient_name = row.last_error = ""
            if row.status == NotificationStatus.PENDING:
                row.status, row.finished_at = NotificationStatus.CANCELLED, now
                cancelled += 1
    Notification.objects.bulk_update(
        rows,
        [
            "context",
            "attachments",
            "recipient_address",
            "recipient_name",
            "last_error",
            "status",
            "finished_at",
        ],
        batch_size=500,
    )
    logged = DeliveryLog.objects.filter(_addressed_to(addresses)).update(
        recipient_address="", recipient_name=""
    )
    for chunk in _chunks(list(dict.fromkeys(tags)), _LOG_TAGS_PER_QUERY):
        logged += (
            DeliveryLog.objects.filter(_log_tagged(chunk), recipient_kind=RecipientKind.CUSTOMER)
            .exclude(recipient_address="", recipient_name="")
            .update(recipient_address="", recipient_name="")
        )
    return OutboxRedaction(notifications=len(rows), cancelled=cancelled, delivery_log=logged)


# Tags matched per delivery-log query (each one a LIKE over the tags' text).
_LOG_TAGS_PER_QUERY = 200


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _log_tagged(tags: Sequence[str]) -> Q:
    """Delivery-log rows carrying one of ``tags``. The log keeps its tags as a JSON list only
    (the tag rows go with the outbox row), and a notice with no address (no route) is found
    by them alone. Matched with the quotes, so ``case:1`` never matches ``case:12``; a text
    match, because SQLite has no JSON containment."""
    return reduce(or_, (Q(tags__icontains=f'"{tag}"') for tag in tags), Q(pk__in=[]))
