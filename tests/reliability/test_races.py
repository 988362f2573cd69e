"""Races on PostgreSQL: ``CONNECTIONS`` connections at once on one case (or one team), for
``ROUNDS`` rounds each. After every round the invariants of the design are checked; the
figures (violations, server errors, outcomes) go into the summary."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import hooks
from cases.handoffs import services as hs
from cases.intake import CaseIntake, case_intake
from cases.models import OPEN_STATUSES, AgentProfile, Case, Handoff, Team
from cases.services import case_open
from commitments.models import Commitment
from commitments.services import commitment_create, commitment_mark_kept, commitment_renegotiate
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager, offer
from tests.reliability.invariants import violations
from tests.reliability.racing import CONNECTIONS, ROUNDS, RacePool, refusals, server_errors

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]


@pytest.fixture
def pool():
    racers = RacePool()
    yield racers
    racers.close()


@pytest.fixture
def team():
    team = TeamFactory()
    agents = [make_agent(team) for _ in range(4)]
    return {"team": team, "agents": agents, "manager": make_manager(team)}


def _lock_case(case: Case):
    return lambda: Case.objects.select_for_update().get(pk=case.pk)


def _new_case(world, round_no: int) -> Case:
    owner = world["agents"][round_no % len(world["agents"])]
    return case_open(
        customer=CustomerFactory(), team=world["team"], channel="email",
        subject=f"Race {round_no}", by=owner, owner=owner,
    )  # fmt: skip


class Tally:
    """What a race counts, reported once at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.violations: list[str] = []
        self.errors: list[Exception] = []
        self.outcomes: Counter[str] = Counter()
        self.case_ids: list[int] = []

    def round(self, case_ids: list[int], results: list, expect_wins: int, kinds=(object,)) -> None:
        self.case_ids.extend(case_ids)
        self.errors.extend(server_errors(results))
        wins = [r for r in results if not isinstance(r, Exception)]
        self.outcomes.update(refusals(results))
        self.outcomes["succeeded"] += len(wins)
        if len(wins) != expect_wins:
            self.violations.append(f"round with {len(wins)} successes, {expect_wins} expected")
        self.violations.extend(violations(case_ids))

    def report(self, figures, **extra) -> None:
        self.violations.extend(violations(set(self.case_ids)))  # once more, all together
        figures.record(
            f"race: {self.name}",
            rounds=ROUNDS,
            connections=CONNECTIONS,
            violations=len(self.violations),
            server_errors=len(self.errors),
            outcomes=dict(sorted(self.outcomes.items())),
            seconds=round(time.monotonic() - self.started, 1),
            **extra,
        )
        assert not self.errors, self.errors[:5]
        assert not self.violations, self.violations[:10]


def test_accept_racing_accept_has_one_winner_per_round(pool, team, figures):
    tally = Tally("accept vs accept")
    for n in range(ROUNDS):
        case = _new_case(team, n)
        receiver = team["agents"][(n + 1) % len(team["agents"])]
        handoff = offer(case, to=receiver)
        results = pool.round(
            _lock_case(case),
            [partial(hs.handoff_accept, handoff=handoff, by=receiver)] * CONNECTIONS,
        )
        tally.round([case.pk], results, expect_wins=1)
    tally.report(figures)


def test_accept_racing_cancel_has_one_outcome_per_round(pool, team, figures):
    tally = Tally("accept vs cancel")
    accepted = 0
    for n in range(ROUNDS):
        case = _new_case(team, n)
        receiver = team["agents"][(n + 1) % len(team["agents"])]
        handoff = offer(case, to=receiver)
        accept = partial(hs.handoff_accept, handoff=handoff, by=receiver)
        cancel = partial(hs.handoff_cancel, handoff=handoff, by=case.owner)
        # alternate who queues first, so both sides win some rounds
        actions = (
            [accept, cancel] * (CONNECTIONS // 2)
            if n % 2
            else [cancel, accept] * (CONNECTIONS // 2)
        )
        results = pool.round(_lock_case(case), actions)
        tally.round([case.pk], results, expect_wins=1)
        accepted += Handoff.objects.filter(pk=handoff.pk, status="accepted").count()
    tally.report(figures, rounds_accepted=accepted, rounds_cancelled=ROUNDS - accepted)


def test_keep_renegotiate_and_accept_racing_end_the_promise_once(pool, team, figures):
    tally = Tally("keep vs renegotiate vs accept")
    manager = team["manager"]
    kept = renegotiated = 0
    for n in range(ROUNDS):
        case = _new_case(team, n)
        promise = commitment_create(
            case=case, by=case.owner, description="Call you back about the refund",
            kind="callback", due=timezone.now() + timedelta(days=2),
        )  # fmt: skip
        receiver = team["agents"][(n + 1) % len(team["agents"])]
        handoff = offer(case, to=receiver)
        actions = []
        for i in range(CONNECTIONS):
            if i % 3 == 0:
                actions.append(partial(commitment_mark_kept, commitment=promise, by=manager))
            elif i % 3 == 1:
                due = timezone.now() + timedelta(days=3, minutes=i)
                actions.append(
                    partial(
                        commitment_renegotiate,
                        commitment=promise,
                        by=manager,
                        due=due,
                        reason="The part is late.",
                    )
                )
            else:
                actions.append(partial(hs.handoff_accept, handoff=handoff, by=receiver))
        results = pool.round(_lock_case(case), actions)
        # one accept, and exactly one of the keeps and renegotiations
        tally.round([case.pk], results, expect_wins=2)
        status = Commitment.objects.get(pk=promise.pk).status
        kept += status == "kept"
        renegotiated += status == "renegotiated"
        if Handoff.objects.get(pk=handoff.pk).status != "accepted":
            tally.violations.append(f"{case.ref}: the offer was not accepted")
    tally.report(figures, promises_kept=kept, promises_renegotiated=renegotiated)


def test_intake_by_rule_under_contention_keeps_the_team_balanced(pool, team, figures, settings):
    # a thousand acknowledgements to one customer: far past the daily notice limits, which
    # are not what this race is about
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 10**6
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 10**6
    tally = Tally("intake by rule")
    manager = team["manager"]
    agent_ids = [a.pk for a in team["agents"]]
    customer = CustomerFactory()
    team_row = team["team"]
    for n in range(ROUNDS):
        intake = CaseIntake(
            channel="email", subject=f"Intake {n}", customer_id=customer.pk, team_id=team_row.pk
        )
        before = set(Case.objects.filter(team=team_row).values_list("pk", flat=True))
        results = pool.round(
            lambda: Team.objects.select_for_update().get(pk=team_row.pk),
            [partial(case_intake, intake=intake, by=manager)] * CONNECTIONS,
        )
        new = set(Case.objects.filter(team=team_row).values_list("pk", flat=True)) - before
        tally.round(sorted(new), results, expect_wins=CONNECTIONS)
        if len(new) != CONNECTIONS:
            tally.violations.append(f"round {n}: {len(new)} cases opened")
        load = dict(
            AgentProfile.objects.filter(user_id__in=agent_ids)
            .annotate(
                n=Count("user__owned_cases", filter=Q(user__owned_cases__status__in=OPEN_STATUSES))
            )
            .values_list("user_id", "n")
        )
        if max(load.values()) - min(load.values()) > 1:  # the rule: fewest open cases first
            tally.violations.append(f"round {n}: unbalanced open cases {load}")
    tally.report(figures, cases_opened=len(tally.case_ids))


def _through_the_gate(team_id: int, action):
    """Wait at the starting gate (a share lock on the team row, which the round holds for
    update), then act: every racer is let go at once, each on a case of its own, so the
    only thing they contend for is the agent's notice limit."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {Team._meta.db_table} WHERE id = %s FOR SHARE", [team_id]
            )
        return action()


def test_promises_past_the_agents_notice_limit_hold_under_contention(pool, team, figures, settings):
    """The review's report: seven concurrent promises past a limit of three all succeeded
    (each counted the ledger before any other had written to it)."""
    limit = 3
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 10**6
    tally = Tally("notice limit")
    team_row = team["team"]
    # each round opens CONNECTIONS cases for a fresh agent first, which costs more than the
    # race itself: a fifth of the rounds (200 racing promises by default) shows the lock
    rounds = max(ROUNDS // 5, 1)
    for n in range(rounds):
        # a fresh agent, nothing counted yet today, owning cases the manager opened (their
        # acknowledgements count against the manager, who is not racing)
        settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 10**6
        agent = make_agent(team_row)
        cases = [
            case_open(
                customer=CustomerFactory(),
                team=team_row,
                channel="email",
                subject=f"Limit {n}.{i}",
                by=team["manager"],
                owner=agent,
            )  # fmt: skip
            for i in range(CONNECTIONS)
        ]
        settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = limit
        due = timezone.now() + timedelta(days=2)
        actions = [
            partial(
                _through_the_gate,
                team_row.pk,
                partial(
                    commitment_create,
                    case=case,
                    by=agent,
                    description=f"Call you back ({n})",
                    kind="callback",
                    due=due,
                ),  # fmt: skip
            )
            for case in cases
        ]
        results = pool.round(lambda: Team.objects.select_for_update().get(pk=team_row.pk), actions)
        tally.round([c.pk for c in cases], results, expect_wins=limit)
        wrong = set(refusals(results)) - {"notice_limit_reached"}
        if wrong:
            tally.violations.append(f"round {n}: refused with {sorted(wrong)}")
        promised = Commitment.objects.filter(case__in=cases, kind="callback").count()
        if promised != limit:
            tally.violations.append(f"round {n}: {promised} promises recorded, {limit} allowed")
    figures.record(
        "notice limit race",
        rounds=rounds,
        connections=CONNECTIONS,
        limit=limit,
        violations=len(tally.violations),
        server_errors=len(tally.errors),
        outcomes=dict(sorted(tally.outcomes.items())),
        seconds=round(time.monotonic() - tally.started, 1),
    )
    assert not tally.errors, tally.errors[:5]
    assert not tally.violations, tally.violations[:10]


def test_the_rounds_meet_the_minimums():
    """The issue's floor: at least 20 connections at once, at least 50 rounds per race."""
    assert CONNECTIONS >= 20 and ROUNDS >= 50
    assert hooks.collect_open_commitments  # the seam the races exercise is wired
