"""The due sweep on real PostgreSQL: concurrent sweeps mark each missed promise exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cases.models import CaseEvent
from cases.services import case_open
from commitments.models import BusinessCalendar, Commitment, CommitmentStatus, PromiseEventKind
from commitments.services import commitment_create, commitment_mark_kept
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db(transaction=True)

SWEEPERS = 6
CASES = 12


@pytest.fixture
def due_promises(postgres):
    """CASES cases, each with a callback promise whose due time has just passed."""
    team = TeamFactory(time_zone="Europe/London", first_response_seconds={"email": 86400})
    BusinessCalendar.objects.create(team=team, around_the_clock=True)
    agent, manager = make_agent(team), make_manager(team)
    promises = []
    for _ in range(CASES):
        case = case_open(
            customer=CustomerFactory(), team=team, channel="email", subject="Leak", by=agent
        )
        promises.append(
            commitment_create(
                case=case, by=agent, description="Call you back", kind="callback", due="1 hour"
            )
        )
    past = timezone.now() - timedelta(seconds=1)
    Commitment.objects.filter(pk__in=[c.pk for c in promises]).update(
        due_at=past, at_risk_from=past
    )
    return {"promises": promises, "manager": manager, "agent": agent}


def run_concurrently(target, count: int) -> list:
    """``count`` threads, each with its own database connection, released together."""
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_sweeps_mark_each_missed_promise_exactly_once(due_promises):
    def sweep_three_times() -> int:
        return sum(commitments_sweep_due() for _ in range(3))

    marked = run_concurrently(sweep_three_times, SWEEPERS)

    assert sum(marked) == CASES
    ids = [c.pk for c in due_promises["promises"]]
    assert set(Commitment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        CommitmentStatus.MISSED
    }
    for pk in ids:
        apologies = Notification.objects.filter(
            template="commitments/email/missed", context__commitment_id=pk
        )
        alerts = Notification.objects.filter(
            template="commitments/email/missed_manager", context__commitment_id=pk
        )
        assert apologies.count() == 1
        assert [a.recipient_address for a in alerts] == [due_promises["manager"].email]
        events = CaseEvent.objects.filter(
            kind=PromiseEventKind.COMMITMENT_MISSED, data__commitment_id=pk
        )
        assert events.count() == 1
    # every case's queue position follows its earliest open promise, recovery step included
    for c in Commitment.objects.filter(pk__in=ids).select_related("case", "successor"):
        open_dues = Commitment.objects.filter(case=c.case, status="open").values_list(
            "due_at", flat=True
        )
        assert c.successor.status == CommitmentStatus.OPEN
        assert c.case.next_due_at == min(open_dues)


def test_a_sweep_skips_a_case_locked_by_a_change_in_progress(due_promises):
    """An owner keeping the promise at the very moment it falls due wins; no apology follows."""
    target = due_promises["promises"][0]
    holding = threading.Event()
    release = threading.Event()

    def keep_slowly() -> None:
        with transaction.atomic():
            commitment_mark_kept(commitment=target, by=due_promises["agent"])
            holding.set()
            release.wait(timeout=10)

    keeper = threading.Thread(target=lambda: (keep_slowly(), connection.close()))
    keeper.start()
    assert holding.wait(timeout=10)
    try:
        marked = run_concurrently(commitments_sweep_due, 2)
    finally:
        release.set()
        keeper.join(timeout=10)
    assert sum(marked) == CASES - 1
    target.refresh_from_db()
    assert target.status == CommitmentStatus.KEPT
    assert commitments_sweep_due() == 0
    assert not Notification.objects.filter(
        template="commitments/email/missed", context__commitment_id=target.pk
    ).exists()
