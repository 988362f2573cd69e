"""Promises through a real hand-off: offered with the brief, accepted, carried, missed."""

from __future__ import annotations

import pytest

from cases.handoffs.services import HandoffSummary, handoff_accept, handoff_offer
from cases.models import Handoff
from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_create, commitment_mark_kept
from commitments.sweep import commitments_sweep_due
from tests.commitments.conftest import london, pending
from tests.factories import TeamFactory, make_agent

pytestmark = pytest.mark.django_db


def summary(extra: str = "") -> HandoffSummary:
    return HandoffSummary(
        customer_needs="The customer needs a working kettle before the family visit next week.",
        actions_taken="I checked the order history and booked a courier collection for Monday.",
        customer_expectations=(
            f"They expect the callback promised about the replacement model. {extra}"
        ),
        next_step="Confirm the replacement model with the warehouse and call the customer back.",
    )


def test_promises_follow_an_accepted_hand_off_with_their_reminders(
    time_machine, open_case, agent, team
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    callback = commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="3 business days"
    )
    receiver = make_agent(team)
    first = Commitment.objects.get(case=case, kind="first_response")
    offer = handoff_offer(
        case=case,
        by=agent,
        to=receiver,
        summary=summary(f"Promise #{callback.pk} and #{first.pk} are open."),
        reason="shift_end",
    )
    assert [c["id"] for c in offer.briefed_commitments] == [first.pk, callback.pk]
    time_machine.move_to(london(2026, 11, 25, 11), tick=False)
    handoff_accept(handoff=offer, by=receiver)

    callback.refresh_from_db()
    assert callback.owner == receiver
    reminders = pending(f"commitment:{callback.pk}:due:")
    assert {n.recipient_address for n in reminders} == {receiver.email}
    assert not pending(f"commitment:{callback.pk}:due:", recipient_address=agent.email).exists()
    follow_up = Commitment.objects.get(case=case, kind="handoff_check")
    assert (follow_up.owner, follow_up.due_at) == (receiver, london(2026, 11, 26, 11))
    case.refresh_from_db()
    assert case.next_due_at == first.due_at


def test_a_carried_promise_missed_later_flags_the_hand_off(time_machine, open_case, agent, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    first = Commitment.objects.get(case=case, kind="first_response")
    receiver = make_agent(team)
    offer = handoff_offer(
        case=case,
        by=agent,
        to=receiver,
        summary=summary(f"Promise #{first.pk} is open."),
        reason="shift_end",
    )
    handoff_accept(handoff=offer, by=receiver)
    time_machine.move_to(london(2026, 11, 25, 16, 1), tick=False)
    commitments_sweep_due()
    first.refresh_from_db()
    assert first.status == CommitmentStatus.MISSED and first.owner == receiver
    assert "carried_commitment_missed" in Handoff.objects.get(pk=offer.pk).flags


def test_a_promise_carries_its_case_team(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    callback = commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="3 business days"
    )
    assert {c.team_id for c in Commitment.objects.filter(case=case)} == {case.team_id}
    assert callback.team_id == case.team_id


def test_a_hand_off_to_another_team_moves_every_promise_of_the_case(
    time_machine, open_case, agent, team, manager
):
    """The reports filter promises on their own team: a case that moves takes its promises,
    open and ended, along in the same transaction (as a report joined through the case did)."""
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    kept = commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="3 business days"
    )
    commitment_mark_kept(commitment=kept, by=agent)
    commitment_create(
        case=case, by=agent, description="Email the label", kind="update", due="2 business days"
    )
    repairs = TeamFactory(name="Repairs", time_zone="Europe/London")
    repairs.managers.add(manager)
    manager._caseowner_managed_ids = None
    outsider = make_agent(repairs)
    offer = handoff_offer(
        case=case,
        by=manager,
        to=outsider,
        summary=summary(" ".join(f"Promise #{c.pk} is open." for c in open_promises(case))),
        reason="manager_reassignment",
    )
    assert offer.to_team == repairs
    time_machine.move_to(london(2026, 11, 25, 11), tick=False)
    handoff_accept(handoff=offer, by=outsider)

    rows = Commitment.objects.filter(case=case)
    assert rows.count() == 4  # first reply, kept callback, update, the hand-off follow-up
    assert {c.team_id for c in rows} == {repairs.pk}
    assert set(Handoff.objects.filter(case=case).values_list("team_id", flat=True)) == {repairs.pk}


def open_promises(case):
    return Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN).order_by("pk")
