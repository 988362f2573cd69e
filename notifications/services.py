"""The outbox: claiming, delivering and retrying, and the sweep. Queueing lives in
``notifications.enqueue``, moving finished rows to the log in ``notifications.archive``; their
names are re-exported here for callers of this module."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from notifications import hooks
from notifications.archive import outbox_archive_batch
from notifications.enqueue import (
    Attachment,
    EmailHeaders,
    Outgoing,
    Recipient,
    notification_cancel,
    notification_enqueue,
    notification_enqueue_many,
    outbox_batch,
    outbox_memo,
)
from notifications.models import (
    Notification,
    NotificationStatus,
)
from notifications.outcomes import DeliveryCounts, mark_sent
from notifications.outcomes import (
    outcomes_not_waiting_for_disk as _outcomes_not_waiting_for_disk,
)
from notifications.telemetry import delivery_log_context
from notifications.transports import Deferred, PermanentError, TransientError, transport_for

logger = logging.getLogger(__name__)

__all__ = [
    "Attachment",
    "EmailHeaders",
    "Outgoing",
    "Recipient",
    "notification_cancel",
    "notification_enqueue",
    "notification_enqueue_many",
    "outbox_archive_batch",
    "outbox_batch",
    "outbox_memo",
]


# --- delivery -------------------------------------------------------------------------------
#
# A claim is (status="sending", attempts=N): the sweep takes rows in one short transaction,
# the task proceeds only while its claim holds, and "sent" is written right after the
# server's answer. A worker that dies leaves its lease to expire; the next sweep reclaims the
# row with attempts N+1, and a late or redelivered task for claim N does nothing.


@dataclass(frozen=True)
class Claim:
    notification_id: int
    attempt: int


@dataclass(frozen=True)
class SweepResult:
    claimed: int
    reclaimed: int
    expired_failed: int
    archived: int


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _dispatch(claims: list[Claim]) -> None:
    """Hand claims to Celery (after commit), ``OUTBOX_DELIVERY_BATCH`` to a task. If the broker
    refuses, release the claims it did not take."""
    from notifications.tasks import deliver_batch

    size = max(1, settings.OUTBOX_DELIVERY_BATCH)
    for start in range(0, len(claims), size):
        chunk = claims[start : start + size]
        try:
            deliver_batch.delay([[c.notification_id, c.attempt] for c in chunk])
        except Exception:
            logger.exception("outbox: broker unavailable, releasing %d claims", len(claims) - start)
            outbox_release(claims=claims[start:])
            return


def outbox_release(*, claims: Sequence[Claim]) -> int:
    """Give claims back (the broker took no task for them): pending again, attempt not counted."""
    released = 0
    for claim in claims:
        released += Notification.objects.filter(
            id=claim.notification_id, status=NotificationStatus.SENDING, attempts=claim.attempt
        ).update(
            status=NotificationStatus.PENDING, lease_expires_at=None, attempts=F("attempts") - 1
        )
    return released


# PostgreSQL claims in one statement: the locked due rows are updated and returned at once.
_CLAIM_SQL = """
UPDATE {table} AS n
   SET status = 'sending', lease_expires_at = %s, attempts = n.attempts + 1
  FROM (SELECT id FROM {table}
         WHERE status = 'pending' AND send_after <= %s
         ORDER BY send_after, id
         LIMIT %s
           FOR UPDATE SKIP LOCKED) AS due
 WHERE n.id = due.id
RETURNING n.id, n.attempts
"""


def outbox_claim_batch(
    *, now: datetime | None = None, batch_size: int | None = None
) -> list[Claim]:
    """Claim up to ``batch_size`` due pending rows and queue a delivery task for each.

    A fixed number of queries whatever the batch size. On PostgreSQL one
    ``UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` on the partial index of
    due pending rows; elsewhere a ``SELECT`` then one ``UPDATE`` (SQLite locks the whole
    database for writing, so there is nothing to skip). Tasks are sent only after commit,
    so a rolled-back claim sends nothing.
    """
    now = now or timezone.now()
    size = batch_size or settings.OUTBOX_BATCH_SIZE
    lease_until = _lease_until(now)
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    _CLAIM_SQL.format(table=Notification._meta.db_table),
                    [lease_until, now, size],
                )
                claimed = sorted(cursor.fetchall())
        else:
            rows = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(status=NotificationStatus.PENDING, send_after__lte=now)
                .order_by("send_after", "id")
                .values_list("id", "attempts")[:size]
            )
            if rows:
                Notification.objects.filter(id__in=[pk for pk, _ in rows]).update(
                    status=NotificationStatus.SENDING,
                    lease_expires_at=lease_until,
                    attempts=F("attempts") + 1,
                )
            claimed = [(pk, attempts + 1) for pk, attempts in rows]
        if not claimed:
            return []
        claims = [Claim(notification_id=pk, attempt=attempt) for pk, attempt in claimed]
        transaction.on_commit(lambda: _dispatch(claims))
    return claims


def outbox_reclaim_expired(
    *, now: datetime | None = None, batch_size: int | None = None
) -> tuple[list[Claim], int]:
    """Claim again rows whose lease expired (their worker died); fail those out of attempts.

    Returns the new claims and how many rows were marked failed.
    """
    now = now or timezone.now()
    size = batch_size or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.SENDING, lease_expires_at__lt=now)
            .order_by("lease_expires_at")
            .values_list("id", "attempts")[:size]
        )
        if not rows:
            return [], 0
        spent = [pk for pk, attempts in rows if attempts >= settings.OUTBOX_MAX_ATTEMPTS]
        again = [(pk, attempts) for pk, attempts in rows if attempts < settings.OUTBOX_MAX_ATTEMPTS]
        if spent:
            Notification.objects.filter(id__in=spent).update(
                status=NotificationStatus.FAILED,
                lease_expires_at=None,
                finished_at=now,
                last_error="no answer from the worker after the last attempt (lease expired)",
            )
            # failed for good as surely as a refusal: the apps above hear of it once committed
            transaction.on_commit(lambda: _tell_failed(spent))
        claims = [Claim(notification_id=pk, attempt=attempts + 1) for pk, attempts in again]
        if claims:
            Notification.objects.filter(id__in=[c.notification_id for c in claims]).update(
                lease_expires_at=_lease_until(now), attempts=F("attempts") + 1
            )
            transaction.on_commit(lambda: _dispatch(claims))
    return claims, len(spent)


def _tell_failed(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        hooks.run_delivery_failed(notification_id)


def outbox_in_flight() -> int:
    """Rows claimed and not finished (on the partial index of sending rows)."""
    return Notification.objects.filter(status=NotificationStatus.SENDING).count()


def outbox_sweep(*, max_batches: int = 20) -> SweepResult:
    """One run of the periodic sweep; safe to run from several processes at once."""
    reclaimed, expired_failed = outbox_reclaim_expired()
    # Back-pressure: claim only what the workers can start before the leases run out.
    room = settings.OUTBOX_MAX_IN_FLIGHT - outbox_in_flight()
    claimed = 0
    for _ in range(max_batches):
        if room <= 0:
            break
        size = min(settings.OUTBOX_BATCH_SIZE, room)
        claims = outbox_claim_batch(batch_size=size)
        claimed += len(claims)
        room -= len(claims)
        if len(claims) < size:
            break
    archived = outbox_archive_batch()
    return SweepResult(
        claimed=claimed,
        reclaimed=len(reclaimed),
        expired_failed=expired_failed,
        archived=archived,
    )


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random."""
    step = min(
        settings.OUTBOX_RETRY_MAX_SECONDS,
        settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return step / 2 + random.uniform(0, step / 2)  # jitter, not security


class DeliveryOutcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


_RENEW_SQL = """
UPDATE {table} SET lease_expires_at = %s
 WHERE status = %s AND (id, attempts) IN ({pairs})
RETURNING *
"""


def _renew(claims: Sequence[Claim], *, now: datetime) -> list[Notification]:
    """The rows whose claim still holds, each given a full lease from ``now``: one statement,
    one commit, whatever the number of claims."""
    if not claims:
        return []
    params: list[object] = [_lease_until(now), NotificationStatus.SENDING]
    for claim in claims:
        params += [claim.notification_id, claim.attempt]
    sql = _RENEW_SQL.format(
        table=Notification._meta.db_table, pairs=", ".join(["(%s, %s)"] * len(claims))
    )
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            # A renewal lost in a database crash changes nothing (the claim's own lease
            # holds), so this commit need not wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = {n.pk: n for n in Notification.objects.raw(sql, params)}
    # Each row once, in the order claimed (a claim given twice is still one message).
    return [rows.pop(c.notification_id) for c in claims if c.notification_id in rows]


def notification_deliver(*, notification_id: int, attempt: int) -> str:
    """Send one claimed notification if claim ``attempt`` still holds; record the outcome."""
    claim = Claim(notification_id=notification_id, attempt=attempt)
    return notification_deliver_batch(claims=[claim])[notification_id]


def notification_deliver_batch(*, claims: Sequence[Claim]) -> dict[int, str]:
    """Send a batch of claimed notifications over the transport's kept-open connection.

    One statement checks every claim, renews its lease and reads the rows; a claim that no
    longer holds is skipped. Each message's outcome is written right after the server's
    answer, so a worker that dies mid-batch leaves at most the message in flight to be sent
    again (same Message-ID), and a message that fails, for good or for now, fails alone.
    If the batch runs long (a slow server), the remaining claims are renewed again before
    their lease could run out.
    """
    outcomes = {c.notification_id: DeliveryOutcome.SKIPPED for c in claims}
    attempts = {c.notification_id: c.attempt for c in claims}
    counts = DeliveryCounts()
    try:
        with _outcomes_not_waiting_for_disk():
            renewed_at = timezone.now()
            pending = _renew(claims, now=renewed_at)
            _deliver_claimed(pending, attempts, outcomes, renewed_at, counts)
    finally:
        counts.flush()
    return outcomes


def _deliver_claimed(
    pending: list[Notification],
    attempts: dict[int, int],
    outcomes: dict[int, str],
    renewed_at: datetime,
    counts: DeliveryCounts,
) -> None:
    while pending:
        notification = pending.pop(0)
        attempt = attempts[notification.pk]
        with delivery_log_context(notification):
            outcome, reason = _send(notification, attempt=attempt)
            counts.note(notification, outcome=outcome, reason=reason)
        outcomes[notification.pk] = outcome
        now = timezone.now()
        if pending and now - renewed_at > timedelta(seconds=settings.OUTBOX_LEASE_SECONDS / 2):
            renewed_at = now
            pending = _renew(
                [Claim(notification_id=n.pk, attempt=attempts[n.pk]) for n in pending], now=now
            )


def _send(notification: Notification, *, attempt: int) -> tuple[str, str]:
    """Send a claimed notification and record the outcome: (outcome, failure reason)."""
    notification_id = notification.pk

    def claim() -> QuerySet[Notification]:
        # only a failure needs it: building it for every message cost more than its use
        return Notification.objects.filter(
            id=notification_id, status=NotificationStatus.SENDING, attempts=attempt
        )

    try:
        provider_id = transport_for(notification.channel).send(notification)
    except PermanentError as exc:
        if claim().update(
            status=NotificationStatus.FAILED,
            last_error=str(exc)[:2000],
            lease_expires_at=None,
            finished_at=timezone.now(),
        ):
            hooks.run_delivery_failed(notification_id)
        logger.warning("outbox: notification %s failed: %s", notification_id, exc)
        return DeliveryOutcome.FAILED, exc.reason or "permanent"
    except Deferred as exc:  # not its turn yet: back in the queue, the attempt not counted
        claim().update(
            status=NotificationStatus.PENDING,
            last_error=str(exc)[:2000],
            lease_expires_at=None,
            attempts=F("attempts") - 1,
            send_after=timezone.now() + timedelta(seconds=exc.seconds),
        )
        return DeliveryOutcome.RETRY, exc.reason
    except Exception as exc:  # anything else is worth another try
        error = str(exc) if isinstance(exc, TransientError) else f"{type(exc).__name__}: {exc}"
        reason = (exc.reason if isinstance(exc, TransientError) else "") or type(exc).__name__
        outcome = _record_transient(
            claim=claim(), notification_id=notification_id, attempt=attempt, error=error[:2000]
        )
        return outcome, reason
    # Right after the server's answer: this is the one window for a duplicate.
    if not mark_sent(notification_id, provider_id):
        logger.warning("outbox: notification %s was sent again (duplicate)", notification_id)
    return DeliveryOutcome.SENT, ""


def _record_transient(
    *, claim: QuerySet[Notification], notification_id: int, attempt: int, error: str
) -> str:
    now = timezone.now()
    if attempt >= settings.OUTBOX_MAX_ATTEMPTS:
        failed = claim.update(
            status=NotificationStatus.FAILED,
            last_error=f"gave up after {attempt} attempts: {error}",
            lease_expires_at=None,
            finished_at=now,
        )
        if failed:
            hooks.run_delivery_failed(notification_id)
        return DeliveryOutcome.FAILED
    claim.update(
        status=NotificationStatus.PENDING,
        last_error=error,
        lease_expires_at=None,
        send_after=now + timedelta(seconds=retry_delay(attempt)),
    )
    return DeliveryOutcome.RETRY


def notification_retry(*, ids: Iterable[int]) -> int:
    """Send failed notifications again now, with a fresh count of attempts (admin action)."""
    return Notification.objects.filter(id__in=list(ids), status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING,
        send_after=timezone.now(),
        attempts=0,
        lease_expires_at=None,
        finished_at=None,
    )
