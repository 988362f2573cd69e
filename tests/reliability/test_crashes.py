"""Crashes the fault tests of ``tests/integration/test_outbox_faults.py`` (a worker SIGKILLed
mid-batch, Redis restarted) do not cover: the promise sweep's connection terminated by
PostgreSQL in the middle of its work, and every connection of the beat and the worker
terminated while the outbox delivers. Nothing is lost, nothing half-applied; a duplicate is
possible only in the SMTP window, and then with the same Message-ID."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from cases.services import case_open
from commitments import sweep
from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_create
from notifications.models import DeliveryLog, Notification, NotificationChannel
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager
from tests.integration.celery_worker import wait_for
from tests.reliability.invariants import violations

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROMISES = 30
PAUSE_AT = 10  # the sweep's connection dies while this promise's transaction is open


def _promises_due_in(seconds: float) -> list[int]:
    team = TeamFactory()
    make_manager(team)
    owner = make_agent(team)
    case_ids = []
    for n in range(PROMISES):
        case = case_open(
            customer=CustomerFactory(), team=team, channel="email", subject=f"Parcel {n}",
            by=owner, owner=owner,
        )  # fmt: skip
        commitment_create(
            case=case, by=owner, description="Call you back once the parcel is traced",
            kind="callback", due=timezone.now() + timedelta(seconds=seconds),
        )  # fmt: skip
        case_ids.append(case.pk)
    return case_ids


def _terminate(pid: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", [pid])


def _email_outcome(smtp_sink) -> dict[str, int]:  # noqa: ANN001
    """What the SMTP server received against what the outbox says it sent."""
    sent = {
        f"<notification-{pk}@" for pk in Notification.objects.filter(
            channel=NotificationChannel.EMAIL, status="sent"
        ).values_list("pk", flat=True)
    } | {
        f"<notification-{pk}@" for pk in DeliveryLog.objects.filter(
            channel=NotificationChannel.EMAIL, status="sent"
        ).values_list("pk", flat=True)
    }  # fmt: skip
    variants: dict[str, set[tuple[str, str]]] = {}
    for r in smtp_sink.snapshot():
        variants.setdefault(r.message_id.split("@")[0] + "@", set()).add((r.to, r.subject))
    counts = smtp_sink.by_message_id()
    return {
        "emails_sent": len(sent),
        "lost": len(sent - set(variants)),
        "duplicates": sum(n - 1 for n in counts.values()),
        "duplicates_without_same_message_id": sum(len(v) > 1 for v in variants.values()),
    }


def test_the_sweep_killed_mid_transaction_applies_all_or_nothing_and_loses_nothing(
    postgres, outbox_processes, smtp_sink, figures, monkeypatch
):
    case_ids = _promises_due_in(seconds=2)
    promises = Commitment.objects.filter(case_id__in=case_ids, kind="callback")
    wait_for(lambda: not promises.filter(due_at__gt=timezone.now()).exists(), timeout=10)
    paused, resume = threading.Event(), threading.Event()
    original, calls, pid, failure = sweep._mark_missed, [0], [0], []

    def pausing(**kwargs):
        original(**kwargs)
        calls[0] += 1
        if calls[0] == PAUSE_AT:  # written, not committed: the connection dies now
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                pid[0] = cur.fetchone()[0]
            paused.set()
            resume.wait(timeout=30)

    def sweeper():
        try:
            sweep.commitments_sweep_due()
        except Exception as exc:  # noqa: BLE001 - the point of the test
            failure.append(exc)
        finally:
            connection.close()

    monkeypatch.setattr(sweep, "_mark_missed", pausing)
    thread = threading.Thread(target=sweeper)
    thread.start()
    assert paused.wait(timeout=60)
    _terminate(pid[0])
    resume.set()
    thread.join(timeout=60)
    monkeypatch.setattr(sweep, "_mark_missed", original)

    missed_after_crash = Commitment.objects.filter(case_id__in=case_ids, status="missed").count()
    half_applied = violations(case_ids)  # the killed promise: all of it rolled back
    # the next sweep (any process) finishes the work
    sweep.commitments_sweep_due()
    not_missed = promises.exclude(status=CommitmentStatus.MISSED).count()
    after = violations(case_ids)

    # Deliver everything, terminating every connection of the beat and the worker once
    # while they claim and send.
    outbox_processes.start(concurrency=2)
    wait_for(lambda: smtp_sink.count() >= 20, timeout=90)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        terminated = cur.fetchone()[0]
    # (reminders of the recovery promises are due later: they stay pending)
    in_flight = Q(status="sending") | Q(status="pending", send_after__lte=timezone.now())
    wait_for(lambda: not Notification.objects.filter(in_flight).exists(), timeout=120)
    outcome = _email_outcome(smtp_sink)
    figures.record(
        "crash: sweep connection terminated",
        promises=PROMISES,
        sweep_error=type(failure[0]).__name__ if failure else "none",
        missed_before_crash=PAUSE_AT - 1,
        missed_after_crash=missed_after_crash,
        connections_terminated_while_delivering=terminated,
        violations=len(half_applied) + len(after) + (missed_after_crash != PAUSE_AT - 1),
        **outcome,
    )
    assert failure, "the sweep's connection was terminated mid-transaction"
    assert missed_after_crash == PAUSE_AT - 1  # the killed one rolled back whole
    assert half_applied == [] and after == [] and not_missed == 0
    assert outcome["lost"] == 0 and outcome["duplicates_without_same_message_id"] == 0
    assert not Notification.objects.filter(status="failed").exists()
