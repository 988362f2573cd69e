from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from notifications.services import Recipient, notification_enqueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def enqueue():
    """Queue a plain message; keyword overrides go to notification_enqueue."""

    def make(key: str = "k1", **overrides):
        kwargs = {
            "recipient": Recipient(address="ada@example.org", name="Ada Okafor", kind="customer"),
            "template": "notifications/email/message",
            "context": {"subject": "Hello", "body": "Body text", "customer_name": "Mrs Okafor"},
            "dedupe_key": key,
        }
        kwargs.update(overrides)
        return notification_enqueue(**kwargs)

    return make


@pytest.fixture(autouse=True)
def _tasks_in_process(_celery_eager):
    """Every test here runs Celery tasks in-process (``_celery_eager``, tests/conftest.py)."""


@pytest.fixture
def scripted_email(settings):
    """An email backend that raises the queued errors first, then delivers to mail.outbox."""
    from tests.notifications import backends

    settings.EMAIL_BACKEND = "tests.notifications.backends.ScriptedBackend"
    backends.ScriptedBackend.errors = []
    yield backends.ScriptedBackend.errors
    backends.ScriptedBackend.errors = []
