"""The outbox: every message to a person is a row written in the caller's transaction.

The hot table (``Notification``) holds only work that is pending, in flight, failed or
recently finished; the sweep moves sent and cancelled rows to ``DeliveryLog`` (the permanent
record, which also keeps their dedupe keys), so the queue stays small however long the
history grows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class RecipientKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    SYSTEM = "system", "System (webhook)"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    # Final, never attempted: the recipient has no address for the channel; ``last_error``
    # says why (``no_route: …``) and the caller made someone responsible for it instead.
    NO_ROUTE = "no_route", "No route to the recipient"


class WebhookEndpoint(models.Model):
    """A URL that receives signed JSON events for one scope (e.g. ``team:7``)."""

    # Opaque to notifications: the caller decides what a scope means.
    scope = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    # Shared secret for the HMAC-SHA256 signature header.
    secret = models.CharField(max_length=200)
    # The secret before the last rotation: until ``previous_secret_until`` every delivery is
    # signed with both, so the receiver can switch to the new one at its own pace.
    previous_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # Event names to send; empty means every event.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            # webhook_emit: the active endpoints of one scope
            models.Index(
                fields=["scope"], condition=Q(is_active=True), name="webhook_active_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} → {self.url}"


class Notification(models.Model):
    channel = models.CharField(
        max_length=10, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL
    )
    # An email address, or a webhook endpoint's URL.
    recipient_address = models.CharField(max_length=500)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    # Template base path: "<name>.subject.txt", "<name>.txt" and "<name>.html" are rendered.
    # For a webhook: the event name.
    template = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # [{"filename", "content_type", "content"}] — content is text (e.g. an .ics).
    attachments = models.JSONField(default=list, blank=True)
    # What an email says beside the defaults (``services.EmailHeaders.as_json``): the sender's
    # display name, Reply-To, the thread (In-Reply-To, References), Auto-Submitted.
    # The database default lets rows written with plain SQL (COPY, bulk loads) omit it.
    headers = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    # The same key never produces a second notification (checked against DeliveryLog too).
    dedupe_key = models.CharField(max_length=255, unique=True)
    # Opaque labels for cancelling together, e.g. "commitment:42" (indexed in NotificationTag).
    tags = models.JSONField(default=list, blank=True)
    # No index: every claim rewrites each index of the row, and nothing looks rows up by
    # endpoint except deleting an endpoint (rare: endpoints are deactivated), which may scan.
    webhook_endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    send_after = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    # Claims so far; the current claim is (status="sending", attempts=N).
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # When the row reached a final state (sent, failed, cancelled).
    finished_at = models.DateTimeField(null=True, blank=True)
    # The request that queued it: its id is on every log line of the delivery.
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            # the sweep: due pending rows in due order
            models.Index(
                fields=["send_after", "id"],
                condition=Q(status="pending"),
                name="notif_due_pending",
            ),
            # the sweep: rows whose worker died (lease expired)
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="sending"),
                name="notif_sending_lease",
            ),
            # operations: failures shown to managers, newest first
            models.Index(fields=["-created_at"], condition=Q(status="failed"), name="notif_failed"),
            # the sweep's archiving step: finished rows to move to the delivery log
            models.Index(
                fields=["finished_at"],
                condition=Q(status__in=["sent", "cancelled", "no_route"]),
                name="notif_finished",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in NotificationStatus]),
                name="notif_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_address} ({self.status})"

    @property
    def message_id(self) -> str:
        """Stable Message-ID: a resend of this notification is recognisably the same mail."""
        return notification_message_id(self.pk)


def notification_message_id(pk: int) -> str:
    return f"<notification-{pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def notification_id_from_message_id(message_id: str) -> int | None:
    """The notification a Message-ID of ours names (``<notification-42@domain>`` → 42), or
    None for anyone else's."""
    text = message_id.strip().strip("<>").lower()
    local, _, domain = text.partition("@")
    if domain != settings.EMAIL_MESSAGE_ID_DOMAIN.lower() or not local.startswith("notification-"):
        return None
    number = local.removeprefix("notification-")
    return int(number) if number.isdigit() and len(number) < 19 else None


class NotificationTag(models.Model):
    """One row per tag of a pending notification, so cancelling by tag is an index lookup."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="tag_rows"
    )
    tag = models.CharField(max_length=200)

    class Meta:
        indexes = [
            # notification_cancel(tag=…): the notifications carrying one tag
            models.Index(fields=["tag", "notification"], name="notif_tag_lookup"),
        ]

    def __str__(self) -> str:
        return self.tag


class DeliveryLog(models.Model):
    """The permanent record of finished notifications, moved out of the hot outbox.

    The primary key is the notification's id, so Message-IDs stay traceable.
    """

    id = models.BigIntegerField(primary_key=True)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient_address = models.CharField(max_length=500)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    template = models.CharField(max_length=200, blank=True)
    # A later notification_enqueue with this key is a duplicate and is refused.
    dedupe_key = models.CharField(max_length=255, unique=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=NotificationStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # operations: deliveries in a period, newest first
            models.Index(fields=["-finished_at"], name="deliverylog_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_address} ({self.status})"
