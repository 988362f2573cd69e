"""Writing what became of a delivery, as cheaply as it can be written once per message: the
"sent" mark by one prepared statement, the batch's session settings, and the delivery
counters added up per batch instead of per message."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from caseowner.store import get_store, series_key
from notifications.models import Notification, NotificationStatus
from notifications.telemetry import DELIVERIES, FAILURES, RETRIES

# the delivery log lines are the telemetry's, as before
logger = logging.getLogger("notifications.telemetry")

_MARK_SENT_SQL = """
UPDATE {table}
   SET status = %s, sent_at = %s, finished_at = %s, provider_message_id = %s,
       lease_expires_at = NULL
 WHERE id = %s AND status IN (%s, %s)
"""

# Prepared once per database session (the batch's first statement prepares it): PostgreSQL
# then neither parses nor plans the statement again for each message.
_MARK_SENT_NAME = "caseowner_outbox_mark_sent"
_SENT, _SENDING, _PENDING = (
    NotificationStatus.SENT.value,
    NotificationStatus.SENDING.value,
    NotificationStatus.PENDING.value,
)
_MARK_SENT_PREPARE = f"""
PREPARE {_MARK_SENT_NAME} (bigint, timestamptz, text) AS
UPDATE {Notification._meta.db_table}
   SET status = '{_SENT}', sent_at = $2, finished_at = $2, provider_message_id = $3,
       lease_expires_at = NULL
 WHERE id = $1 AND status IN ('{_SENDING}', '{_PENDING}')
"""
_MARK_SENT_EXECUTE = f"EXECUTE {_MARK_SENT_NAME} (%s, %s, %s)"
# Set on a driver connection (one server session) that holds the prepared statement.
_PREPARED = "caseowner_mark_sent_prepared"


def _prepared(raw: Any) -> bool:
    return bool(getattr(raw, _PREPARED, False))


def _session_is_ours() -> bool:
    """A session setting or a prepared statement stays where it was made: behind PgBouncer in
    transaction mode the server session is another client's after the commit."""
    return connection.vendor == "postgresql" and settings.DATABASE_POOLER != "pgbouncer"


@contextmanager
def outcomes_not_waiting_for_disk() -> Iterator[None]:
    """PostgreSQL: the batch's commits do not wait for the disk (``synchronous_commit``
    off for this connection, while the batch runs), and the "sent" statement is prepared
    on the session if it is not yet (in the same round trip).

    Every commit still reaches the server before the next message is sent, so a worker
    that dies loses nothing it wrote. Only a crash of the database server itself can lose
    the last fraction of a second of outcomes; such a row is still "sending" with its lease,
    the sweep reclaims it, and the message goes again with the same Message-ID: the
    guarantee the outbox already gives for a worker killed between send and record. Waiting
    for the disk after every message was what limited delivery.

    Behind PgBouncer in transaction mode a session setting would stay on a server connection
    other clients then borrow, so there the commits wait for the disk as usual and the
    "sent" statement is sent whole each time.
    """
    if not _session_is_ours() or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    prepare = not _prepared(raw)
    with connection.cursor() as cursor:
        cursor.execute(
            "SET synchronous_commit TO OFF" + (f"; {_MARK_SENT_PREPARE}" if prepare else "")
        )
    if prepare:
        setattr(raw, _PREPARED, True)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            # a connection that broke is closed and opened afresh with the server's default
            connection.close()


def mark_sent(notification_id: int, provider_id: str) -> bool:
    """ "Sent", whatever the claim's state but final (a slow send whose lease was reclaimed
    still delivered); one statement, prepared where the session allows it."""
    now = timezone.now()
    with connection.cursor() as cursor:
        if _prepared(connection.connection):
            cursor.execute(_MARK_SENT_EXECUTE, [notification_id, now, provider_id[:255]])
        else:
            cursor.execute(
                _MARK_SENT_SQL.format(table=Notification._meta.db_table),
                [
                    NotificationStatus.SENT,
                    connection.ops.adapt_datetimefield_value(now),
                    connection.ops.adapt_datetimefield_value(now),
                    provider_id[:255],
                    notification_id,
                    NotificationStatus.SENDING,
                    NotificationStatus.PENDING,
                ],
            )
        return cursor.rowcount > 0


class DeliveryCounts:
    """The delivery counters of one batch, added to the shared store together: at most
    once a second while the batch runs, and at its end (one round trip for many
    messages; a worker killed mid-batch loses at most a second of counts, never a
    message)."""

    FLUSH_SECONDS = 1.0

    def __init__(self) -> None:
        self.pending: Counter[str] = Counter()
        self.flushed_at = time.monotonic()

    def note(self, notification: Notification, *, outcome: str, reason: str = "") -> None:
        """A log line and a count for one delivery attempt that ended."""
        logger.info(
            "outbox: notification %s %s%s",
            notification.pk,
            outcome,
            f" ({reason})" * bool(reason),
        )
        key = _series(notification.channel, outcome, reason)
        if key is not None:
            self.pending[key] += 1
        if time.monotonic() - self.flushed_at >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.flushed_at = time.monotonic()
        if self.pending:
            counts, self.pending = self.pending, Counter()
            get_store().update(incr={key: float(n) for key, n in counts.items()})


@lru_cache(maxsize=256)
def _series(channel: str, outcome: str, reason: str) -> str | None:
    # as telemetry.count_delivery labels them
    if outcome == "sent":
        return series_key(DELIVERIES, {"channel": channel})
    if outcome == "failed":
        return series_key(FAILURES, {"channel": channel, "reason": reason or "unknown"})
    if outcome == "retry":
        return series_key(RETRIES, {"channel": channel, "reason": reason or "unknown"})
    return None
