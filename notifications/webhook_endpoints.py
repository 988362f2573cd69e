"""Managing webhook endpoints: a generated secret shown once, its rotation with an overlap,
pause and resume, removal, the recent deliveries and a redelivery.

Who may manage the endpoints of a scope is the caller's rule (``cases.webhook_api``); each
write here is one transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from caseowner.errors import NotFoundError, RuleError
from notifications.enqueue import Recipient, notification_enqueue
from notifications.models import (
    DeliveryLog,
    Notification,
    NotificationChannel,
    NotificationStatus,
    RecipientKind,
    WebhookEndpoint,
)
from notifications.webhooks import webhook_endpoint_check

SECRET_PREFIX = "whsec_"
# How long the secret before a rotation still signs, unless the caller says otherwise.
ROTATION_OVERLAP_DEFAULT = timedelta(hours=24)
ROTATION_OVERLAP_MAX = timedelta(days=7)
RECENT_DELIVERIES = 50


class WebhookRuleError(RuleError):
    """A rule about webhook endpoints refused the request."""


def webhook_secret_generate() -> str:
    """A new signing secret: 256 random bits, recognisable as ours by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _checked_url(url: str) -> str:
    try:
        webhook_endpoint_check(url=url, secret=SECRET_PREFIX + "x" * 16)
    except ValueError as exc:
        raise WebhookRuleError("webhook_url_refused", str(exc), fields={"url": [str(exc)]}) from exc
    return url


@transaction.atomic
def webhook_endpoint_create(
    *, scope: str, url: str, events: Sequence[str] = (), description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of ``scope`` with a generated secret; the secret is returned here and
    never shown again (only the signatures it makes)."""
    secret = webhook_secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        scope=scope,
        url=_checked_url(url),
        secret=secret,
        events=list(dict.fromkeys(events)),
        description=description.strip(),
    )
    return endpoint, secret


def _locked(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFoundError(f"No webhook endpoint {endpoint_id}.")
    return endpoint


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint_id: int, overlap: timedelta = ROTATION_OVERLAP_DEFAULT
) -> tuple[WebhookEndpoint, str]:
    """A new secret at once; the old one keeps signing beside it (a second ``sha256=`` in
    the signature header) until ``now + overlap``, so the receiver can switch without
    refusing a delivery. A rotation during an overlap ends the older secret's."""
    if not timedelta(0) <= overlap <= ROTATION_OVERLAP_MAX:
        raise WebhookRuleError(
            "invalid_overlap",
            "The overlap is from 0 to 168 hours.",
            fields={"overlap_hours": ["From 0 to 168 hours."]},
        )
    endpoint = _locked(endpoint_id)
    secret = webhook_secret_generate()
    endpoint.previous_secret = endpoint.secret if overlap else ""
    endpoint.previous_secret_until = timezone.now() + overlap if overlap else None
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_set_active(*, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """Pause (no event is queued for it; queued deliveries fail as ``endpoint_gone`` and can
    be redelivered) or resume."""
    endpoint = _locked(endpoint_id)
    if endpoint.is_active != active:
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint_id: int) -> None:
    """Remove the endpoint and its deliveries still in the outbox; the delivery log keeps
    the record of what was sent."""
    _locked(endpoint_id).delete()


@dataclass(frozen=True)
class Delivery:
    id: int
    event: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None
    # Moved to the permanent log: the record stays, the message itself is gone.
    archived: bool


def webhook_deliveries(
    *, endpoint: WebhookEndpoint, limit: int = RECENT_DELIVERIES
) -> list[Delivery]:
    """The endpoint's most recent deliveries, newest first: those still in the outbox, then
    the archived ones (only their outcome: the message is not kept)."""
    live = [
        Delivery(
            id=n.pk,
            event=n.template,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at,
            next_attempt_at=n.send_after if n.status == NotificationStatus.PENDING else None,
            sent_at=n.sent_at,
            finished_at=n.finished_at,
            archived=False,
        )
        for n in Notification.objects.filter(webhook_endpoint=endpoint).order_by("-id")[:limit]
    ]
    archived = [
        Delivery(
            id=row.pk,
            event=row.template,
            status=row.status,
            attempts=row.attempts,
            last_error="",
            created_at=row.created_at,
            next_attempt_at=None,
            sent_at=row.sent_at,
            finished_at=row.finished_at,
            archived=True,
        )
        for row in DeliveryLog.objects.filter(
            channel=NotificationChannel.WEBHOOK, dedupe_key__endswith=f":webhook:{endpoint.pk}"
        ).order_by("-id")[: max(0, limit - len(live))]
    ]
    return sorted([*live, *archived], key=lambda d: d.id, reverse=True)[:limit]


@transaction.atomic
def webhook_redeliver(*, endpoint: WebhookEndpoint, delivery_id: int) -> Notification:
    """Send a delivery again now: a failed one is retried as itself (same delivery id, fresh
    attempts); one already sent goes out as a new delivery of the same event (same ``key``,
    new delivery id, outside the case's order). One still queued or archived is refused."""
    original = (
        Notification.objects.select_for_update()
        .filter(pk=delivery_id, webhook_endpoint=endpoint)
        .first()
    )
    if original is None:
        if DeliveryLog.objects.filter(
            pk=delivery_id, dedupe_key__endswith=f":webhook:{endpoint.pk}"
        ).exists():
            raise WebhookRuleError(
                "delivery_archived",
                "This delivery is archived: its message is no longer kept.",
                status=409,
            )
        raise NotFoundError(f"No delivery {delivery_id} of this endpoint.")
    if not endpoint.is_active:
        raise WebhookRuleError(
            "webhook_endpoint_paused", "Resume the endpoint before redelivering.", status=409
        )
    if original.status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
        raise WebhookRuleError(
            "delivery_in_progress", "This delivery is still on its way.", status=409
        )
    if original.status == NotificationStatus.FAILED:
        original.status = NotificationStatus.PENDING
        original.send_after = timezone.now()
        original.attempts = 0
        original.lease_expires_at = None
        original.finished_at = None
        original.save(
            update_fields=["status", "send_after", "attempts", "lease_expires_at", "finished_at"]
        )
        return original
    context = {k: v for k, v in original.context.items() if k != "order"}
    copy = notification_enqueue(
        recipient=Recipient(
            address=endpoint.url, name=original.recipient_name, kind=RecipientKind.SYSTEM
        ),
        template=original.template,
        context=context,
        dedupe_key=f"redeliver:{original.pk}:{uuid.uuid4().hex}:webhook:{endpoint.pk}",
        tags=[f"webhook:{endpoint.pk}"],
        channel=NotificationChannel.WEBHOOK,
        webhook_endpoint=endpoint,
    )
    assert copy is not None  # a fresh key is never a duplicate
    return Notification.objects.get(pk=copy.pk)  # with the database's created_at
