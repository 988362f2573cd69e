"""Promises follow a case to its new owner (the hand-off hook), reminders included."""

from __future__ import annotations

import pytest

from cases import hooks
from cases.models import CaseStatus
from cases.services import case_change_status
from commitments.models import Commitment, CommitmentStatus
from tests.commitments.conftest import (
    london,
    pending,
    promise,
)
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


def test_promises_follow_the_case_on_hand_off(time_machine, open_case, agent, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="3 business days")
    old_keys = set(pending(f"commitment:{c.pk}:due:").values_list("dedupe_key", flat=True))
    new_owner = make_agent(team)
    time_machine.move_to(london(2026, 11, 25, 15), tick=False)
    case.owner = new_owner
    case.save(update_fields=["owner"])
    hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 15))
    c.refresh_from_db()
    assert c.owner == new_owner
    moved = list(pending(f"commitment:{c.pk}:due:"))
    assert {n.recipient_address for n in moved} == {new_owner.email}
    assert [n.send_after for n in moved] == [london(2026, 11, 27, 10), london(2026, 11, 30, 9)]
    assert not set(n.dedupe_key for n in moved) & old_keys
    assert not pending(f"commitment:{c.pk}:due:", recipient_address=agent.email).exists()
    follow_up = Commitment.objects.get(case=case, kind="handoff_check")
    assert follow_up.owner == new_owner
    assert follow_up.due_at == london(2026, 11, 26, 15)


def test_a_hand_off_back_to_the_first_owner_reschedules_again(time_machine, open_case, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    first_owner = case.owner
    c = promise(case, first_owner, due="3 business days")
    for owner in (make_agent(team), first_owner):
        case.owner = owner
        case.save(update_fields=["owner"])
        hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 11))
    assert {n.recipient_address for n in pending(f"commitment:{c.pk}:due:")} == {first_owner.email}
    assert pending(f"commitment:{c.pk}:due:").count() == 2


def test_resolving_after_a_hand_off_keeps_the_products_own_follow_up(time_machine, open_case, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    new_owner = make_agent(team)
    case.owner = new_owner
    case.save(update_fields=["owner"])
    hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 10))
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=new_owner)
    assert set(Commitment.objects.filter(case=case).values_list("status", flat=True)) == {
        CommitmentStatus.KEPT
    }
