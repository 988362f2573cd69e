"""A delivery's outcome: "sent" by one prepared statement where the database session is the
worker's own, the whole statement behind PgBouncer; the counters added up per batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseowner.store import get_store, series_key
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver_batch, outbox_claim_batch
from notifications.telemetry import DELIVERIES


@pytest.fixture(autouse=True)
def _no_tasks(monkeypatch):
    """Claims are delivered here, by the test, not by tasks run at the claim's commit."""
    from notifications import services

    monkeypatch.setattr(services, "_dispatch", lambda claims: None)


def deliver(enqueue, n: int) -> list[str]:
    for i in range(n):
        enqueue(f"n{i}")
    claims = outbox_claim_batch()
    with CaptureQueriesContext(connection) as queries:
        outcomes = notification_deliver_batch(claims=claims)
    assert set(outcomes.values()) == {"sent"}
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == n
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a worker delivers
def test_sent_is_one_prepared_statement_per_message(postgres, enqueue, frozen):
    connection.close()  # a session of its own: the first batch prepares the statement
    first = deliver(enqueue, 3)
    assert sum("PREPARE caseowner_outbox_mark_sent" in sql for sql in first) == 1
    assert sum(sql.startswith("EXECUTE caseowner_outbox_mark_sent") for sql in first) == 3
    Notification.objects.all().delete()
    again = deliver(enqueue, 2)  # the same session: prepared already
    assert not any("PREPARE" in sql for sql in again)
    assert sum(sql.startswith("EXECUTE caseowner_outbox_mark_sent") for sql in again) == 2
    sent = Notification.objects.first()
    assert sent.sent_at == sent.finished_at is not None
    assert sent.lease_expires_at is None and sent.provider_message_id == sent.message_id


@pytest.mark.django_db(transaction=True)
def test_behind_pgbouncer_sent_is_the_whole_statement(postgres, enqueue, frozen, settings):
    settings.DATABASE_POOLER = "pgbouncer"
    connection.close()
    statements = deliver(enqueue, 2)
    assert not any("PREPARE" in sql or "EXECUTE" in sql for sql in statements)
    assert sum(sql.lstrip().startswith("UPDATE") for sql in statements) == 2 + 1  # + renewal


@pytest.mark.django_db
def test_a_batch_adds_its_counts_together(enqueue, frozen, monkeypatch):
    updates = []
    store = get_store()
    real = store.update
    monkeypatch.setattr(store, "update", lambda **kw: updates.append(kw) or real(**kw))
    for i in range(4):
        enqueue(f"n{i}")

    notification_deliver_batch(claims=outbox_claim_batch())

    assert updates == [{"incr": {series_key(DELIVERIES, {"channel": "email"}): 4.0}}]
