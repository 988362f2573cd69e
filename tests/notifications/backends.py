"""An email backend for tests: raises scripted SMTP errors, then delivers like locmem."""

from __future__ import annotations

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class ScriptedBackend(BaseEmailBackend):
    errors: list[Exception] = []

    def send_messages(self, email_messages):
        if ScriptedBackend.errors:
            raise ScriptedBackend.errors.pop(0)
        for message in email_messages:
            message.message()  # render, as a real backend would
        mail.outbox.extend(email_messages)
        return len(email_messages)


class CountingBackend(BaseEmailBackend):
    """Delivers like locmem and counts the connections opened (one SMTP session each)."""

    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return True

    def send_messages(self, email_messages):
        for message in email_messages:
            message.message()
        mail.outbox.extend(email_messages)
        return len(email_messages)
