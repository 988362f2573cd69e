"""A ``hypothesis`` state machine over the services: open, offer, accept, decline, cancel,
promise, keep, renegotiate, withdraw, move the clock and sweep, in any order, by the right
person or the wrong one. After every step every invariant of the design holds; a refusal is
always the product's domain error, never anything else.

Deterministic (``derandomize``) and bounded, so it runs in every test run; on SQLite as a unit
test, on PostgreSQL with the same rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from caseowner.errors import RuleError
from cases import hooks
from cases.handoffs import services as hs
from cases.models import Case, Handoff, HandoffStatus
from cases.services import case_open
from cases.tasks import sweep_handoff_offers
from commitments import services as cs
from commitments.models import Commitment, CommitmentStatus
from commitments.sweep import commitments_sweep_due
from tests.factories import CustomerFactory, TeamFactory, good_summary, make_agent, make_manager
from tests.reliability.invariants import violations

pytestmark = pytest.mark.django_db

START = datetime.fromisoformat("2026-03-02T09:30:00+00:00")  # a Monday morning in London
# steps taken, refusals, examples, and how many times each service succeeded
STEPS: dict[str, int] = {}

pick = st.integers(min_value=0, max_value=1000)
# mostly the right person, sometimes someone who must be refused
who = st.sampled_from(["owner", "owner", "owner", "manager", "receiver", "stranger"])
receiver = st.sampled_from(["receiver", "receiver", "receiver", "owner", "stranger"])


class Services(RuleBasedStateMachine):
    """One team, its agents and manager; the cases this example opened."""

    @initialize()
    def a_team(self) -> None:
        STEPS["examples"] += 1
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        self.team = TeamFactory()
        self.agents = [make_agent(self.team) for _ in range(3)]
        self.manager = make_manager(self.team)
        self.stranger = make_agent(TeamFactory())
        self.case_ids: list[int] = []
        self.open_case(0)

    def teardown(self) -> None:
        self.clock.stop()

    # --- helpers --------------------------------------------------------------------------

    def _person(self, role: str, case: Case, handoff: Handoff | None = None):
        if role == "owner":
            return case.owner
        if role == "receiver":
            return handoff.to_agent if handoff else self.agents[-1]
        return self.manager if role == "manager" else self.stranger

    def _attempt(self, action, *args, **kwargs):
        STEPS["steps"] += 1
        try:
            done = action(*args, **kwargs)
            STEPS[action.__name__] = STEPS.get(action.__name__, 0) + 1
            return done
        except RuleError as refusal:  # a refusal the API answers with a 4xx and a code
            STEPS["refusals"] += 1
            STEPS[refusal.code] = STEPS.get(refusal.code, 0) + 1
            return None

    def _case(self, n: int) -> Case:
        return Case.objects.select_related("owner").get(pk=self.case_ids[n % len(self.case_ids)])

    def _handoff(self, n: int) -> Handoff | None:
        rows = list(Handoff.objects.filter(case_id__in=self.case_ids).order_by("id"))
        if n % 4:  # mostly a waiting offer; sometimes any, decided ones included
            rows = [h for h in rows if h.status == HandoffStatus.OFFERED] or rows
        return rows[n % len(rows)] if rows else None

    def _promise(self, n: int) -> Commitment | None:
        rows = list(Commitment.objects.filter(case_id__in=self.case_ids).order_by("id"))
        if n % 4:  # mostly an open promise; sometimes any, ended ones included
            rows = [c for c in rows if c.status == CommitmentStatus.OPEN] or rows
        return rows[n % len(rows)] if rows else None

    # --- rules ----------------------------------------------------------------------------

    @rule(n=pick)
    def open_case(self, n: int) -> None:
        if len(self.case_ids) >= 3:
            return
        owner = self.agents[n % len(self.agents)]
        case = self._attempt(
            case_open, customer=CustomerFactory(), team=self.team, channel="email",
            subject=f"Case {n}", by=owner, owner=owner if n % 2 else None,
        )  # fmt: skip
        if case is not None:
            self.case_ids.append(case.pk)

    @rule(n=pick, to=pick, role=who)
    def offer(self, n: int, to: int, role: str) -> None:
        case = self._case(n)
        briefed = [c.id for c in hooks.collect_open_commitments(case)]
        self._attempt(
            hs.handoff_offer, case=case, by=self._person(role, case),
            to=[a for a in self.agents if a.pk != case.owner_id][to % 2],
            summary=good_summary(), reason="shift_end",
            briefed_commitments=briefed if to % 5 else briefed[:-1],
        )  # fmt: skip

    @rule(n=pick, role=receiver)
    def accept(self, n: int, role: str) -> None:
        if handoff := self._handoff(n):
            by = self._person(role, handoff.case, handoff)
            self._attempt(hs.handoff_accept, handoff=handoff, by=by)

    @rule(n=pick, to=pick)
    def owner_offers_and_receiver_accepts(self, n: int, to: int) -> None:
        """The usual path, so acceptance is well represented among the random steps."""
        self.offer(n, to, "owner")
        waiting = Handoff.objects.filter(case_id__in=self.case_ids, status=HandoffStatus.OFFERED)
        if handoff := waiting.order_by("-id").first():
            self._attempt(hs.handoff_accept, handoff=handoff, by=handoff.to_agent)

    @rule(n=pick, role=receiver, reason=st.sampled_from(["", "On leave tomorrow."]))
    def decline(self, n: int, role: str, reason: str) -> None:
        if handoff := self._handoff(n):
            by = self._person(role, handoff.case, handoff)
            self._attempt(hs.handoff_decline, handoff=handoff, by=by, reason=reason)

    @rule(n=pick, role=who)
    def cancel(self, n: int, role: str) -> None:
        if handoff := self._handoff(n):
            self._attempt(hs.handoff_cancel, handoff=handoff, by=self._person(role, handoff.case))

    @rule(n=pick, role=who, hours=st.integers(min_value=-2, max_value=72))
    def promise(self, n: int, role: str, hours: int) -> None:
        case = self._case(n)
        self._attempt(
            cs.commitment_create, case=case, by=self._person(role, case),
            description="Call you back with the refund date", kind="callback",
            due=self.traveller_now() + timedelta(hours=hours),
        )  # fmt: skip

    @rule(n=pick, role=who)
    def keep(self, n: int, role: str) -> None:
        if promise := self._promise(n):
            by = self._person(role, promise.case)
            self._attempt(cs.commitment_mark_kept, commitment=promise, by=by)

    @rule(n=pick, role=who, hours=st.integers(min_value=1, max_value=96))
    def renegotiate(self, n: int, role: str, hours: int) -> None:
        if promise := self._promise(n):
            self._attempt(
                cs.commitment_renegotiate, commitment=promise, by=self._person(role, promise.case),
                due=self.traveller_now() + timedelta(hours=hours), reason="The part is late.",
            )  # fmt: skip

    @rule(n=pick, role=who, reason=st.sampled_from(["", "Refunded by the bank instead."]))
    def withdraw(self, n: int, role: str, reason: str) -> None:
        if promise := self._promise(n):
            by = self._person(role, promise.case)
            self._attempt(cs.commitment_withdraw, commitment=promise, by=by, reason=reason)

    @rule(hours=st.sampled_from([1, 3, 8, 26, 75]))
    def move_the_clock(self, hours: int) -> None:
        self.traveller.shift(timedelta(hours=hours))

    @rule()
    def sweep(self) -> None:
        STEPS["steps"] += 1
        STEPS["missed"] = STEPS.get("missed", 0) + commitments_sweep_due()
        for step, count in sweep_handoff_offers().items():
            STEPS[f"offers_{step}"] = STEPS.get(f"offers_{step}", 0) + count

    def traveller_now(self) -> datetime:
        from django.utils import timezone

        return timezone.now()

    # --- the design's invariants, after every step -----------------------------------------

    @invariant()
    def every_invariant_holds(self) -> None:
        if not getattr(self, "case_ids", None):
            return
        assert violations(self.case_ids) == []
        for case in Case.objects.filter(pk__in=self.case_ids):
            assert case.owner_id is not None
            open_offers = Handoff.objects.filter(case=case, status=HandoffStatus.OFFERED)
            assert open_offers.count() <= 1
            # while an offer waits, the sender stays accountable
            for waiting in open_offers:
                assert waiting.from_agent_id == case.owner_id


@pytest.mark.parallel_pass  # in-process, the database only
def test_the_services_hold_every_invariant_in_any_order(figures):
    STEPS.clear()
    STEPS.update(steps=0, refusals=0, examples=0)
    bounded = settings(
        max_examples=8,
        stateful_step_count=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    try:
        run_state_machine_as_test(Services, settings=bounded)
    except AssertionError:
        figures.record("state machine", violations=1, **STEPS)
        raise
    except Exception:  # not a refusal: the API would have answered 500
        figures.record("state machine", server_errors=1, **STEPS)
        raise
    figures.record("state machine", violations=0, **STEPS)
