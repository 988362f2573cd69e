"""The outbox: every message to a person is a row written in the caller's transaction."""

from __future__ import annotations

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


class Notification(models.Model):
    channel = models.CharField(
        max_length=10, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL
    )
    # An email address, or a webhook endpoint's URL.
    recipient_address = models.CharField(max_length=500)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    # Template base path: "<name>.subject.txt", "<name>.txt" and "<name>.html" are rendered.
    template = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # [{"filename", "content_type", "content"}] — content is text (e.g. an .ics).
    attachments = models.JSONField(default=list, blank=True)
    # The same key never produces a second notification.
    dedupe_key = models.CharField(max_length=255, unique=True)
    # Opaque labels for cancelling together, e.g. "commitment:42".
    tags = models.JSONField(default=list, blank=True)
    send_after = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
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
            models.Index(
                fields=["-created_at"], condition=Q(status="failed"), name="notif_failed"
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
        from django.conf import settings

        return f"<notification-{self.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
