"""The development mailbox: every email the demo sends, kept as the customer would receive it."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class DevMail(models.Model):
    """One sent email, as its raw RFC 5322 text (headers, text, HTML and attachments)."""

    message_id = models.CharField(max_length=255, blank=True)
    to = models.CharField(max_length=1000)
    subject = models.CharField(max_length=1000, blank=True)
    raw = models.TextField()
    sent_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            # /dev/mail/: newest first
            models.Index(fields=["-sent_at", "-id"], name="devmail_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
