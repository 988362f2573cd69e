"""Hand-offs on real PostgreSQL: racing decisions have exactly one outcome, and ownership,
commitments and the timeline move together or not at all."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from cases import hooks, services
from cases.errors import CaseRuleError
from cases.handoffs import services as hs
from cases.handoffs.sweep import handoff_remind_or_escalate
from cases.models import Case, CaseEvent, EventKind, Handoff, HandoffStatus
from commitments.models import Commitment
from notifications.models import Notification
from tests.factories import (
    CustomerFactory,
    TeamFactory,
    good_summary,
    make_agent,
    make_manager,
    offer,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture
def committed_world():
    team = TeamFactory()
    owner, receiver, colleague = make_agent(team), make_agent(team), make_agent(team)
    manager = make_manager(team)
    case = services.case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="Refund", by=owner,
        owner=owner,
    )  # fmt: skip
    return {
        "team": team,
        "owner": owner,
        "receiver": receiver,
        "colleague": colleague,
        "manager": manager,
        "case": case,
    }


def _waiting_on_locks(expected: int, timeout: float = 10.0) -> None:
    """Block until ``expected`` other backends wait on a row lock (the racers are queued)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cur:
        while time.monotonic() < deadline:
            # statistics are a snapshot per transaction, and this runs inside one
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cur.fetchone()[0] >= expected:
                return
            time.sleep(0.01)
    raise AssertionError(f"{expected} racers never queued on the lock")


def race(case: Case, *actions) -> list:
    """Run ``actions`` in threads (own connections) queued behind a lock on the case row this
    thread holds, then let them go at once; returns each one's result or exception."""
    results: list = [None] * len(actions)

    def run(index, action):
        try:
            results[index] = action()
        except Exception as exc:  # reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)
        for t in threads:
            t.start()
        _waiting_on_locks(len(actions))
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


def _outcomes(results):
    wins = [r for r in results if isinstance(r, Handoff)]
    losses = [r for r in results if isinstance(r, CaseRuleError)]
    assert len(wins) + len(losses) == len(results), results
    return wins, losses


def test_two_accepts_at_once_have_exactly_one_winner(committed_world):
    handoff = offer(committed_world["case"], to=committed_world["receiver"])
    by = committed_world["receiver"]
    results = race(
        committed_world["case"],
        lambda: hs.handoff_accept(handoff=handoff, by=by),
        lambda: hs.handoff_accept(handoff=handoff, by=by),
    )
    wins, losses = _outcomes(results)
    assert len(wins) == 1 and [e.code for e in losses] == ["handoff_not_open"]
    case = Case.objects.get(pk=committed_world["case"].pk)
    assert (case.owner, case.owner_count) == (committed_world["receiver"], 2)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.HANDOFF_ACCEPTED).count() == 1
    assert Notification.objects.filter(template="cases/email/handoff_introduction").count() == 1


def test_accept_racing_cancel_has_exactly_one_outcome(committed_world):
    handoff = offer(committed_world["case"], to=committed_world["receiver"])
    results = race(
        committed_world["case"],
        lambda: hs.handoff_accept(handoff=handoff, by=committed_world["receiver"]),
        lambda: hs.handoff_cancel(handoff=handoff, by=committed_world["owner"]),
    )
    wins, losses = _outcomes(results)
    assert len(wins) == 1 and [e.code for e in losses] == ["handoff_not_open"]
    handoff.refresh_from_db()
    case = Case.objects.get(pk=committed_world["case"].pk)
    if handoff.status == HandoffStatus.ACCEPTED:
        assert case.owner == committed_world["receiver"]
    else:
        assert handoff.status == HandoffStatus.CANCELLED
        assert case.owner == committed_world["owner"] and case.owner_count == 1
    decided = CaseEvent.objects.filter(
        case=case, kind__in=[EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_CANCELLED]
    )
    assert decided.count() == 1


def test_two_offers_at_once_leave_one_open_offer(committed_world):
    case = committed_world["case"]
    results = race(
        case,
        lambda: offer(case, to=committed_world["receiver"]),
        lambda: offer(case, by=committed_world["manager"], to=committed_world["colleague"]),
    )
    wins, losses = _outcomes(results)
    assert len(wins) == 1 and [e.code for e in losses] == ["handoff_already_open"]
    assert Handoff.objects.filter(case=case, status=HandoffStatus.OFFERED).count() == 1


def test_the_database_allows_one_open_offer_per_case(committed_world):
    first = offer(committed_world["case"], to=committed_world["receiver"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.create(
            case=first.case, team_id=first.team_id, from_agent=first.from_agent,
            to_agent=committed_world["colleague"], offered_by=first.from_agent, reason="workload",
            customer_needs="x", actions_taken="x", customer_expectations="x", next_step="x",
            offered_at=first.offered_at,
        )  # fmt: skip


def test_acceptance_moves_the_commitments_with_the_case(committed_world):
    case = committed_world["case"]
    brief = hooks.collect_open_commitments(case)
    assert brief, "the first-response promise is open"
    handoff = hs.handoff_offer(
        case=case,
        by=committed_world["owner"],
        to=committed_world["receiver"],
        summary=good_summary(),
        reason="shift_end",
        briefed_commitments=[c.id for c in brief],
    )
    hs.handoff_accept(handoff=handoff, by=committed_world["receiver"])
    open_ones = Commitment.objects.filter(case=case, status="open")
    assert {c.owner_id for c in open_ones} == {committed_world["receiver"].pk}
    assert open_ones.count() == len(brief) + 1  # the follow-up "did the hand-off work" promise
    assert Case.objects.get(pk=case.pk).owner == committed_world["receiver"]


def test_a_failure_after_the_commitments_moved_rolls_everything_back(committed_world, monkeypatch):
    case = committed_world["case"]
    brief = hooks.collect_open_commitments(case)
    handoff = hs.handoff_offer(
        case=case,
        by=committed_world["owner"],
        to=committed_world["receiver"],
        summary=good_summary(),
        reason="shift_end",
        briefed_commitments=[c.id for c in brief],
    )

    def breaks(**kwargs):
        raise RuntimeError("injected failure after the commitments moved")

    monkeypatch.setattr(hooks, "handoff_accepted", [*hooks.handoff_accepted, breaks])
    before = {
        "commitments": list(
            Commitment.objects.filter(case=case).order_by("pk").values_list("pk", "owner_id")
        ),
        "events": CaseEvent.objects.filter(case=case).count(),
        "notifications": Notification.objects.count(),
    }
    with pytest.raises(RuntimeError):
        hs.handoff_accept(handoff=handoff, by=committed_world["receiver"])
    after = {
        "commitments": list(
            Commitment.objects.filter(case=case).order_by("pk").values_list("pk", "owner_id")
        ),
        "events": CaseEvent.objects.filter(case=case).count(),
        "notifications": Notification.objects.count(),
    }
    assert after == before
    case = Case.objects.get(pk=case.pk)
    assert (case.owner, case.owner_count) == (committed_world["owner"], 1)
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.OFFERED
    # and the offer can still be accepted once the failure is gone
    monkeypatch.setattr(
        hooks, "handoff_accepted", [h for h in hooks.handoff_accepted if h is not breaks]
    )
    hs.handoff_accept(handoff=handoff, by=committed_world["receiver"])
    assert Case.objects.get(pk=case.pk).owner == committed_world["receiver"]


def test_the_sweep_skips_an_offer_being_decided(committed_world):
    handoff = offer(committed_world["case"], to=committed_world["receiver"])
    later = timezone.now() + timedelta(days=2)
    done: list = []

    def sweep():
        with time_machine.travel(later, tick=False):
            done.append(handoff_remind_or_escalate(handoff_id=handoff.pk))
        connection.close()

    with transaction.atomic():
        Case.objects.select_for_update().get(pk=committed_world["case"].pk)
        thread = threading.Thread(target=sweep)
        thread.start()
        thread.join(timeout=10)
    assert done == [[]]  # skipped at once, not waiting behind the lock
    with time_machine.travel(later, tick=False):
        assert handoff_remind_or_escalate(handoff_id=handoff.pk) == ["reminded", "escalated"]


def test_sweeps_running_at_once_remind_once(committed_world):
    from cases.tasks import sweep_handoff_offers

    cases = [committed_world["case"]] + [
        services.case_open(
            customer=CustomerFactory(), team=committed_world["team"], channel="email",
            subject="More", by=committed_world["owner"], owner=committed_world["owner"],
        )
        for _ in range(4)
    ]  # fmt: skip
    offers = [offer(case, to=committed_world["receiver"]) for case in cases]
    later = max(h.remind_at for h in offers) + timedelta(seconds=1)
    barrier = threading.Barrier(3)
    totals: list = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            with time_machine.travel(later, tick=False):
                totals.append(sweep_handoff_offers())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(t["reminded"] for t in totals) == len(cases)
    reminded = CaseEvent.objects.filter(kind=EventKind.HANDOFF_REMINDED)
    assert reminded.count() == len(cases)
    assert Notification.objects.filter(template="cases/email/handoff_reminder").count() == len(
        cases
    )
