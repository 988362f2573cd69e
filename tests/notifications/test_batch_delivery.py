"""Delivery in batches: one task sends many claimed rows over one connection, each row's
claim, outcome and lease kept as if it were sent alone."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import Notification, NotificationStatus
from notifications.services import (
    Claim,
    notification_deliver_batch,
    outbox_claim_batch,
    outbox_sweep,
)
from notifications.transports import transport_for
from tests.notifications.conftest import T0

pytestmark = pytest.mark.django_db


def test_a_failed_message_in_a_batch_does_not_fail_the_others(enqueue, frozen, scripted_email):
    refused = enqueue("refused", recipient=_recipient("nobody@invalid.example"))
    busy = enqueue("busy")
    fine = [enqueue(f"fine{i}") for i in range(3)]
    scripted_email.append(
        smtplib.SMTPRecipientsRefused({"nobody@invalid.example": (550, b"5.1.1 no such user")})
    )
    scripted_email.append(smtplib.SMTPDataError(451, b"try again later"))
    claims = outbox_claim_batch()

    outcomes = notification_deliver_batch(claims=claims)

    assert outcomes[refused.pk] == "failed"
    assert outcomes[busy.pk] == "retry"
    assert [outcomes[n.pk] for n in fine] == ["sent"] * 3
    status = dict(Notification.objects.values_list("pk", "status"))
    assert status[refused.pk] == NotificationStatus.FAILED
    assert status[busy.pk] == NotificationStatus.PENDING
    assert {status[n.pk] for n in fine} == {NotificationStatus.SENT}
    assert len(mail.outbox) == 3


def test_a_batch_skips_the_claims_that_no_longer_hold(enqueue, frozen):
    held, lost = enqueue("held"), enqueue("lost")
    claims = outbox_claim_batch()
    Notification.objects.filter(pk=lost.pk).update(attempts=2)  # reclaimed by another sweep

    outcomes = notification_deliver_batch(claims=claims)

    assert outcomes == {held.pk: "sent", lost.pk: "skipped"}
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [held.message_id]


def test_a_batch_is_sent_over_one_connection(enqueue, frozen, settings):
    from tests.notifications import backends

    settings.EMAIL_BACKEND = "tests.notifications.backends.CountingBackend"
    transport_for("email")._close()
    backends.CountingBackend.opened = 0
    for i in range(5):
        enqueue(f"n{i}")

    outcomes = notification_deliver_batch(claims=outbox_claim_batch())

    assert set(outcomes.values()) == {"sent"}
    assert backends.CountingBackend.opened == 1
    assert len(mail.outbox) == 5


@pytest.mark.parametrize("size", [1, 20])
def test_checking_the_claims_of_a_batch_is_one_statement(
    enqueue, frozen, size, django_assert_num_queries
):
    for i in range(size):
        enqueue(f"n{i}")
    claims = outbox_claim_batch()
    # savepoint, (PostgreSQL: SET LOCAL), the renewal UPDATE … RETURNING, release; then one
    # UPDATE per message marking it sent right after the server's answer
    from django.db import connection

    fixed = 4 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(fixed + size):
        notification_deliver_batch(claims=claims)


def test_the_sweep_hands_claims_to_tasks_in_delivery_batches(
    enqueue, frozen, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks

    settings.OUTBOX_DELIVERY_BATCH = 2
    batches: list[list[list[int]]] = []
    real = tasks.deliver_batch.delay
    monkeypatch.setattr(
        tasks.deliver_batch, "delay", lambda claims: batches.append(claims) or real(claims)
    )
    for i in range(5):
        enqueue(f"n{i}")

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep().claimed == 5

    assert [len(b) for b in batches] == [2, 2, 1]
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 5


def test_a_broker_refusing_a_batch_releases_that_batch_and_the_rest(
    enqueue, frozen, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks

    settings.OUTBOX_DELIVERY_BATCH = 2
    taken: list[list[list[int]]] = []

    def delay(claims):
        if taken:
            raise ConnectionError("broker down")
        taken.append(claims)

    monkeypatch.setattr(tasks.deliver_batch, "delay", delay)
    for i in range(5):
        enqueue(f"n{i}")

    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()

    rows = dict(Notification.objects.values_list("pk", "status"))
    sending = {pk for pk, status in rows.items() if status == NotificationStatus.SENDING}
    assert sending == {pk for pk, _ in taken[0]}
    assert Notification.objects.filter(status=NotificationStatus.PENDING, attempts=0).count() == 3


def test_a_slow_batch_renews_the_leases_of_the_messages_still_to_send(
    enqueue, frozen, settings, monkeypatch
):
    """A slow server must not let the last claims of a batch expire and be sent twice."""
    settings.OUTBOX_LEASE_SECONDS = 100
    transport = transport_for("email")
    real_send = transport.send
    leases_at_send = []

    def slow_send(notification):
        row = Notification.objects.get(pk=notification.pk)
        from django.utils import timezone

        leases_at_send.append(row.lease_expires_at - timezone.now())
        frozen.shift(40)  # each send takes 40 s
        return real_send(notification)

    monkeypatch.setattr(transport, "send", slow_send)
    for i in range(5):
        enqueue(f"n{i}")
    claims = outbox_claim_batch()

    outcomes = notification_deliver_batch(claims=claims)

    assert set(outcomes.values()) == {"sent"}
    assert all(left > timedelta(0) for left in leases_at_send)
    assert T0 + timedelta(seconds=200) <= Notification.objects.latest("sent_at").sent_at


def test_a_claim_given_twice_in_a_batch_is_sent_once(enqueue, frozen):
    n = enqueue("k")
    [claim] = outbox_claim_batch()

    outcomes = notification_deliver_batch(claims=[claim, Claim(n.pk, claim.attempt)])

    assert outcomes == {n.pk: "sent"}
    assert len(mail.outbox) == 1


def _recipient(address):
    from notifications.services import Recipient

    return Recipient(address=address, name="", kind="customer")


def test_each_email_is_built_once_however_often_it_is_read(enqueue, frozen, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    builds = []
    real = EmailMultiAlternatives.message

    def counting(self, *args, **kwargs):
        builds.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "message", counting)
    for i in range(3):
        enqueue(f"n{i}")

    outcomes = notification_deliver_batch(claims=outbox_claim_batch())

    assert set(outcomes.values()) == {"sent"}
    assert len(builds) == 3  # checked by the transport, sent by the backend: built once
    assert [m.message()["Message-ID"] for m in mail.outbox] == [
        f"<notification-{pk}@caseowner.local>" for pk in sorted(outcomes)
    ]


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a worker delivers
def test_behind_pgbouncer_delivery_sets_nothing_on_the_session(postgres, settings):
    """Outcomes stop waiting for the disk with a session setting; behind PgBouncer in
    transaction mode that setting would stay on a server connection other clients borrow,
    so there it is never set."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import _outcomes_not_waiting_for_disk

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as queries, _outcomes_not_waiting_for_disk():
            pass
        return [q["sql"] for q in queries.captured_queries]

    assert any("synchronous_commit" in sql for sql in statements())
    settings.DATABASE_POOLER = "pgbouncer"
    assert statements() == []
