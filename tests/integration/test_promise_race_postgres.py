"""Keep, renegotiate and accept-a-hand-off racing on one case on real PostgreSQL: every loser
gets a domain error (a 4xx), never a crash, and each promise ends exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseowner.errors import RuleError
from cases.handoffs import services as hs
from cases.models import Case, CaseEvent, Handoff, HandoffStatus
from cases.services import case_open
from commitments.models import Commitment, CommitmentStatus, PromiseEventKind
from commitments.services import commitment_create, commitment_mark_kept, commitment_renegotiate
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager, offer
from tests.integration.test_handoff_postgres import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

ENDED = {
    PromiseEventKind.COMMITMENT_KEPT,
    PromiseEventKind.COMMITMENT_RENEGOTIATED,
    PromiseEventKind.COMMITMENT_WITHDRAWN,
    PromiseEventKind.COMMITMENT_MISSED,
}


@pytest.fixture
def committed_world():
    team = TeamFactory()
    owner, receiver, manager = make_agent(team), make_agent(team), make_manager(team)
    case = case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="Refund", by=owner,
        owner=owner,
    )  # fmt: skip
    return {"owner": owner, "receiver": receiver, "manager": manager, "case": case}


def _setup(committed_world):
    case = committed_world["case"]
    promise = commitment_create(
        case=case,
        by=committed_world["owner"],
        description="I will call you back with the refund reference.",
        kind="callback",
        due=timezone.now() + timedelta(days=3),
    )
    open_ids = list(
        Commitment.objects.filter(case=case, status="open").values_list("pk", flat=True)
    )
    handoff = offer(case, to=committed_world["receiver"], briefed_commitments=open_ids)
    return case, promise, handoff


def _check_invariants(case: Case, promise: Commitment, results: list) -> None:
    for result in results:
        # A winner returns its object; a loser gets the one domain error type, 4xx.
        assert not isinstance(result, Exception) or isinstance(result, RuleError), result
        if isinstance(result, RuleError):
            assert 400 <= result.status_code < 500, result
    case = Case.objects.select_related("owner").get(pk=case.pk)
    promise.refresh_from_db()
    ended = CaseEvent.objects.filter(
        case=case, kind__in=ENDED, data__commitment_id=promise.pk
    ).count()
    assert ended == (0 if promise.status == CommitmentStatus.OPEN else 1)
    successors = Commitment.objects.filter(pk=promise.successor_id).count()
    assert successors == (1 if promise.status == CommitmentStatus.RENEGOTIATED else 0)
    # Exactly one open offer or none; an accepted offer made the receiver the owner.
    handoffs = list(Handoff.objects.filter(case=case))
    assert sum(h.status == HandoffStatus.OFFERED for h in handoffs) <= 1
    # Who answers for a promise is always the case's owner.
    for open_promise in Commitment.objects.filter(case=case, status="open"):
        assert open_promise.owner_id == case.owner_id


@pytest.mark.parametrize("round_", range(4))
def test_the_owner_keeps_and_renegotiates_while_the_receiver_accepts(committed_world, round_):
    case, promise, handoff = _setup(committed_world)
    owner, receiver = committed_world["owner"], committed_world["receiver"]
    results = race(
        case,
        lambda: commitment_mark_kept(commitment=promise, by=owner),
        lambda: commitment_renegotiate(
            commitment=promise,
            by=owner,
            due=timezone.now() + timedelta(days=5 + round_),
            reason="The parts are late.",
        ),
        lambda: hs.handoff_accept(handoff=handoff, by=receiver),
    )
    _check_invariants(case, promise, results)
    # Nothing else contends with the offer: the accept always wins.
    assert isinstance(results[2], Handoff)
    assert Case.objects.get(pk=case.pk).owner_id == receiver.pk
    # At most one of keep and renegotiate ended the promise; a loser says why.
    wins = [r for r in results[:2] if isinstance(r, Commitment)]
    assert len(wins) <= 1
    for loser in (r for r in results[:2] if isinstance(r, RuleError)):
        assert loser.code in {"commitment_not_open", "not_case_owner"}


@pytest.mark.parametrize("round_", range(4))
def test_a_manager_keeps_and_renegotiates_while_the_receiver_accepts(committed_world, round_):
    case, promise, handoff = _setup(committed_world)
    manager, receiver = committed_world["manager"], committed_world["receiver"]
    results = race(
        case,
        lambda: commitment_renegotiate(
            commitment=promise,
            by=manager,
            due=timezone.now() + timedelta(days=5 + round_),
            reason="The parts are late.",
        ),
        lambda: commitment_mark_kept(commitment=promise, by=manager),
        lambda: hs.handoff_accept(handoff=handoff, by=receiver),
    )
    _check_invariants(case, promise, results)
    # A manager may always change the team's promises: exactly one of the two ends it.
    wins = [r for r in results[:2] if isinstance(r, Commitment)]
    losses = [r for r in results[:2] if isinstance(r, RuleError)]
    assert len(wins) == 1 and [e.code for e in losses] == ["commitment_not_open"]
    assert isinstance(results[2], Handoff)
