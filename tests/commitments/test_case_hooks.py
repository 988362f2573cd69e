"""What cases asks of commitments: closing, the hand-off brief, the detail, queue flags."""

from __future__ import annotations

import pytest

from cases import hooks
from cases.hooks import PromiseBrief, QueueFlags
from cases.models import CaseEvent, CaseStatus
from cases.services import case_change_status
from commitments.errors import CommitmentRuleError
from commitments.models import Commitment, CommitmentStatus, PromiseEventKind
from commitments.services import (
    commitment_mark_kept,
)
from tests.commitments.conftest import (
    london,
    pending,
    promise,
    queue_flags,
)

pytestmark = pytest.mark.django_db


def test_resolving_keeps_first_response_promises(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=agent)
    first = Commitment.objects.get(case=case)
    assert (first.status, first.end_reason) == (CommitmentStatus.KEPT, "Case resolved.")
    case.refresh_from_db()
    assert case.next_due_at is None
    assert pending(f"commitment:{first.pk}:due:").count() == 0


def test_a_case_cannot_close_over_an_open_callback(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    with pytest.raises(CommitmentRuleError) as err:
        case_change_status(case=case, status=CaseStatus.CLOSED, by=agent)
    assert (err.value.code, err.value.status_code) == ("open_commitments", 409)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    commitment_mark_kept(commitment=c, by=agent)
    case_change_status(case=case, status=CaseStatus.CLOSED, by=agent)


def test_open_promises_are_briefed_for_a_hand_off(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    brief = hooks.collect_open_commitments(case)
    assert brief[-1] == PromiseBrief(id=c.pk, description=c.description, due_at=c.due_at)


def test_case_detail_lists_promises_in_one_query(
    time_machine, open_case, agent, django_assert_max_num_queries
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    for _ in range(5):
        promise(case, agent)
    with django_assert_max_num_queries(1):
        extras = hooks.collect_detail_extras(case, agent)
    assert len(extras["commitments"]) == 6


def test_queue_flags_take_one_query(time_machine, open_case, django_assert_num_queries):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    cases = [open_case() for _ in range(3)]
    time_machine.move_to(london(2026, 11, 27, 10), tick=False)
    with django_assert_num_queries(1):
        flags = queue_flags([c.pk for c in cases])
    assert set(flags) == {c.pk for c in cases}
    assert all(f == QueueFlags(overdue=True, at_risk=False) for f in flags.values())


def test_a_promise_kept_by_resolving_the_case_is_recorded_like_a_keep(
    time_machine, open_case, agent
):
    """One way to keep a promise: the owner's "keep" and the case's resolution record the same
    timeline event (the promise's words, whether it was on time) and the same end."""
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    kept_case, resolved_case = open_case(), open_case()
    commitment_mark_kept(commitment=Commitment.objects.get(case=kept_case), by=agent)
    case_change_status(case=resolved_case, status=CaseStatus.RESOLVED, by=agent)
    kept, resolved = (
        CaseEvent.objects.get(case=case, kind=PromiseEventKind.COMMITMENT_KEPT)
        for case in (kept_case, resolved_case)
    )
    promise_words = Commitment.objects.get(case=resolved_case).description
    assert resolved.data == {
        "commitment_id": Commitment.objects.get(case=resolved_case).pk,
        "description": promise_words,
        "on_time": True,
        "by_resolution": True,
    }
    assert set(kept.data) == {"commitment_id", "description", "on_time"}
    assert (kept.data["description"], kept.data["on_time"]) == (promise_words, True)
