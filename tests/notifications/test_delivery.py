from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import DeliveryLog, Notification, NotificationStatus
from notifications.services import (
    Attachment,
    DeliveryOutcome,
    Recipient,
    notification_cancel,
    notification_deliver,
    notification_retry,
    outbox_archive_batch,
    outbox_claim_batch,
    outbox_reclaim_expired,
    outbox_sweep,
    retry_delay,
)
from tests.notifications.conftest import T0

pytestmark = pytest.mark.django_db


def test_claiming_marks_due_rows_sending_with_a_lease(enqueue, frozen, settings):
    settings.OUTBOX_LEASE_SECONDS = 120
    due = enqueue("due")
    later = enqueue("later", send_after=T0 + timedelta(minutes=5))

    claims = outbox_claim_batch()

    assert [(c.notification_id, c.attempt) for c in claims] == [(due.pk, 1)]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.attempts) == (NotificationStatus.SENDING, 1)
    assert due.lease_expires_at == T0 + timedelta(seconds=120)
    assert later.status == NotificationStatus.PENDING


def test_claiming_takes_due_rows_in_due_order_up_to_the_batch_size(enqueue, frozen):
    keys = [enqueue(f"n{i}", send_after=T0 - timedelta(minutes=i)).pk for i in range(5)]
    claims = outbox_claim_batch(batch_size=3)
    assert {c.notification_id for c in claims} == set(list(reversed(keys))[:3])


@pytest.mark.parametrize("batch", [1, 50])
def test_claiming_a_batch_is_a_fixed_number_of_queries(
    enqueue, frozen, batch, django_assert_num_queries
):
    for i in range(batch):
        enqueue(f"n{i}")
    from django.db import connection

    # savepoint, the claim (PostgreSQL: one UPDATE … RETURNING; SQLite: SELECT + UPDATE), release
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):
        claims = outbox_claim_batch(batch_size=batch)
    assert len(claims) == batch


def test_tasks_are_queued_only_after_the_claim_commits(
    enqueue, frozen, django_capture_on_commit_callbacks
):
    enqueue("k")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox_claim_batch()
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_sweep_delivers_the_email_with_its_stable_message_id(
    enqueue, frozen, django_capture_on_commit_callbacks
):
    n = enqueue(
        "k",
        context={
            "subject": "Your case",
            "body": "Tom & Jerry <3",
            "customer_name": "Mrs Okafor",
            "case_ref": "CASE-000123",
        },
        attachments=[Attachment("visit.ics", "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = outbox_sweep()

    assert result.claimed == 1
    [message] = mail.outbox
    assert message.subject == "[CASE-000123] Your case"
    assert message.extra_headers["Message-ID"] == f"<notification-{n.pk}@caseowner.local>"
    assert message.to == ["Ada Okafor <ada@example.org>"]
    assert "Dear Mrs Okafor," in message.body
    assert "Tom & Jerry <3" in message.body  # plain text is not HTML-escaped
    assert "Tom &amp; Jerry &lt;3" in message.alternatives[0].content
    assert message.attachments[0][0] == "visit.ics"
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT
    assert n.sent_at == T0
    assert n.provider_message_id == n.message_id


def test_a_task_whose_claim_no_longer_holds_sends_nothing(enqueue, frozen):
    n = enqueue("k")
    [claim] = outbox_claim_batch()
    Notification.objects.filter(pk=n.pk).update(attempts=2)  # reclaimed by another sweep

    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "skipped"
    assert mail.outbox == []


def test_a_task_for_a_sent_notification_sends_nothing(enqueue, frozen):
    n = enqueue("k")
    [claim] = outbox_claim_batch()
    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "sent"
    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "skipped"
    assert len(mail.outbox) == 1


def test_a_transient_failure_retries_later_with_backoff(enqueue, frozen, scripted_email, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    scripted_email.append(smtplib.SMTPServerDisconnected("connection lost"))
    scripted_email.append(smtplib.SMTPServerDisconnected("connection lost"))
    n = enqueue("k")
    [claim] = outbox_claim_batch()

    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "retry"

    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert "disconnected" in n.last_error
    assert T0 + timedelta(seconds=15) <= n.send_after <= T0 + timedelta(seconds=30)
    assert outbox_claim_batch() == []  # not due yet


def test_a_4xx_answer_is_transient(enqueue, frozen, scripted_email):
    scripted_email.append(smtplib.SMTPDataError(451, b"try again later"))
    n = enqueue("k")
    [claim] = outbox_claim_batch()
    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "retry"
    n.refresh_from_db()
    assert n.last_error == "SMTP 451 try again later"


def test_backoff_doubles_up_to_the_maximum_with_jitter(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    settings.OUTBOX_RETRY_MAX_SECONDS = 60
    for attempt, step in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = {retry_delay(attempt) for _ in range(20)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1


def test_after_the_last_attempt_a_transient_failure_fails_with_the_error(
    enqueue, frozen, scripted_email, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    n = enqueue("k")
    for _ in range(2):
        scripted_email.append(ConnectionRefusedError("refused"))
        Notification.objects.filter(pk=n.pk).update(send_after=T0)
        [claim] = outbox_claim_batch()
        outcome = notification_deliver(notification_id=n.pk, attempt=claim.attempt)
    assert outcome == "failed"
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    assert n.last_error.startswith("gave up after 2 attempts: ConnectionRefusedError")


def test_a_refused_recipient_fails_at_once_and_others_are_unaffected(
    enqueue, frozen, scripted_email
):
    bad = enqueue("bad", recipient=_recipient("nobody@invalid.example"))
    good = enqueue("good")
    scripted_email.append(
        smtplib.SMTPRecipientsRefused({"nobody@invalid.example": (550, b"5.1.1 no such user")})
    )
    claims = {c.notification_id: c.attempt for c in outbox_claim_batch()}

    assert notification_deliver(notification_id=bad.pk, attempt=claims[bad.pk]) == "failed"
    assert notification_deliver(notification_id=good.pk, attempt=claims[good.pk]) == "sent"

    bad.refresh_from_db()
    assert bad.status == NotificationStatus.FAILED
    assert bad.attempts == 1
    assert "550 5.1.1 no such user" in bad.last_error


def test_a_missing_template_fails_at_once(enqueue, frozen):
    n = enqueue("k", template="nowhere/email/missing")
    [claim] = outbox_claim_batch()
    assert notification_deliver(notification_id=n.pk, attempt=claim.attempt) == "failed"
    n.refresh_from_db()
    assert "template not found" in n.last_error


def test_an_expired_lease_is_claimed_again_and_the_old_task_does_nothing(enqueue, frozen, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    n = enqueue("k")
    [first] = outbox_claim_batch()

    frozen.shift(30)
    assert outbox_reclaim_expired() == ([], 0)
    frozen.shift(31)
    [second], failed = outbox_reclaim_expired()

    assert (second.attempt, failed) == (2, 0)
    assert notification_deliver(notification_id=n.pk, attempt=first.attempt) == "skipped"
    assert notification_deliver(notification_id=n.pk, attempt=second.attempt) == "sent"
    assert len(mail.outbox) == 1


def test_an_expired_lease_on_the_last_attempt_fails(enqueue, frozen, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    n = enqueue("k")
    outbox_claim_batch()
    frozen.shift(settings.OUTBOX_LEASE_SECONDS + 1)

    assert outbox_reclaim_expired() == ([], 1)
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    assert "lease expired" in n.last_error


def test_a_cancelled_notification_is_never_sent(
    enqueue, frozen, django_capture_on_commit_callbacks
):
    enqueue("reminder", tags=["commitment:1"], send_after=T0 + timedelta(hours=1))
    notification_cancel(tag="commitment:1")
    frozen.shift(timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep().claimed == 0
    assert mail.outbox == []


def test_retry_puts_failed_rows_back_with_fresh_attempts(enqueue, frozen):
    n = enqueue("k")
    Notification.objects.filter(pk=n.pk).update(status="failed", attempts=8, last_error="x")
    other = enqueue("other")

    assert notification_retry(ids=[n.pk, other.pk]) == 1

    n.refresh_from_db()
    assert (n.status, n.attempts, n.send_after) == ("pending", 0, T0)


def test_finished_rows_move_to_the_delivery_log_after_the_retention(enqueue, frozen, settings):
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 600
    n = enqueue("k", tags=["case:1"])
    [claim] = outbox_claim_batch()
    notification_deliver(notification_id=n.pk, attempt=claim.attempt)
    failed = enqueue("failed")
    Notification.objects.filter(pk=failed.pk).update(status="failed", finished_at=T0)

    assert outbox_archive_batch() == 0
    frozen.shift(601)
    assert outbox_archive_batch() == 1

    assert list(Notification.objects.values_list("pk", flat=True)) == [failed.pk]
    log = DeliveryLog.objects.get()
    assert (log.pk, log.status, log.dedupe_key, log.tags) == (n.pk, "sent", "k", ["case:1"])
    assert log.provider_message_id == f"<notification-{n.pk}@caseowner.local>"


@pytest.mark.parametrize("batch", [1, 20])
def test_archiving_a_batch_is_a_fixed_number_of_queries(
    enqueue, frozen, settings, batch, django_assert_num_queries
):
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 0
    for i in range(batch):
        enqueue(f"n{i}", tags=["t"])
    notification_cancel(tag="t")
    # savepoint, SELECT … SKIP LOCKED, INSERT log, SELECT + DELETE tags + DELETE rows, release
    with django_assert_num_queries(7):
        assert outbox_archive_batch() == batch


def _recipient(address):
    from notifications.services import Recipient

    return Recipient(address=address, name="", kind="customer")


def test_outcomes_are_named():
    assert DeliveryOutcome.SENT == "sent"


def test_the_sweep_claims_no_more_than_the_workers_can_start_in_time(enqueue, frozen, settings):
    settings.OUTBOX_MAX_IN_FLIGHT = 3
    settings.OUTBOX_BATCH_SIZE = 2
    for i in range(5):
        enqueue(f"n{i}")

    assert outbox_sweep().claimed == 3
    assert outbox_sweep().claimed == 0  # none finished yet


def test_a_worker_lost_after_the_servers_answer_resends_with_the_same_message_id(
    enqueue, frozen, settings
):
    """The one window for a duplicate: SMTP said 250, the worker died before marking sent."""
    from notifications.transports import transport_for

    n = enqueue("k")
    [first] = outbox_claim_batch()
    transport_for("email").send(Notification.objects.get(pk=n.pk))  # …and the worker dies
    frozen.shift(settings.OUTBOX_LEASE_SECONDS + 1)

    [second], _ = outbox_reclaim_expired()
    assert notification_deliver(notification_id=n.pk, attempt=second.attempt) == "sent"

    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert ids == [n.message_id, n.message_id]
    assert notification_deliver(notification_id=n.pk, attempt=first.attempt) == "skipped"


def test_a_header_that_can_never_be_sent_fails_at_once(enqueue, frozen):
    enqueue(recipient=Recipient(address="ada@example.org", name="Ada\r\nBcc: x@evil.example"))
    [claim] = outbox_claim_batch()

    assert notification_deliver(notification_id=claim.notification_id, attempt=1) == "failed"
    row = Notification.objects.get()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 1
    assert "cannot be built" in row.last_error
    assert not mail.outbox
