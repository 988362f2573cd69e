"""A development email backend: messages are kept in the database for ``/dev/mail/`` instead
of being printed, so ``make demo`` can send its hundreds of emails without flooding the
terminal and a reader can open each one as the customer would see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from demo.models import DevMail


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        kept = [
            DevMail(
                message_id=str(message.extra_headers.get("Message-ID", ""))[:255],
                to=", ".join(message.recipients())[:1000],
                subject=str(message.subject)[:1000],
                raw=message.message().as_string(),
            )
            for message in email_messages
        ]
        DevMail.objects.bulk_create(kept)
        return len(kept)
