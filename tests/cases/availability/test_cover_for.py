"""A manager's "cover for": all of an away agent's open cases offered at once, each with its
own summary through the gate, ownership moving only on acceptance."""

from __future__ import annotations

import pytest
import time_machine

from cases.availability.cover_for import CoverCase, CoverRequest, cover_drafts, cover_for
from cases.availability.services import agent_set_away
from cases.errors import CaseRuleError
from cases.handoffs.services import handoff_accept
from cases.models import Case, Handoff, HandoffStatus
from notifications.models import Notification
from tests.commitments.conftest import london, promise
from tests.factories import make_agent

MONDAY = london(2026, 3, 16, 10)


def _items(drafts, **overrides):
    return [
        CoverCase(
            case_id=d.case.pk,
            customer_needs=f"{d.case.customer.full_name} needs the leaking kettle {d.case.pk} "
            "replaced under warranty.",
            next_step=f"Call {d.case.customer.full_name} about case {d.case.pk} before noon "
            "tomorrow and confirm the courier.",
            customer_expectations=d.customer_expectations,
            actions_taken=d.actions_taken,
            **overrides,
        )
        for d in drafts
    ]


SHARED = {
    "actions_taken": "The owner was taken ill this morning; nothing further was done on "
    "these cases since yesterday evening.",
    "customer_expectations": "Every customer here expects a reply from their owner within "
    "the first-response promise shown below.",
}


@pytest.fixture
def away_owner(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        cases = [open_case() for _ in range(6)]
        promise(cases[0], agent, due="1 business day")
        agent_set_away(agent=agent, by=agent, away=True)
    return cases


def test_cover_for_offers_every_case_spread_over_present_receivers(
    team, agent, manager, away_owner
):
    ben, cat = make_agent(team), make_agent(team)
    with time_machine.travel(MONDAY, tick=False):
        drafts = cover_drafts(agent=agent)
        assert len(drafts) == 6 and "#" in drafts[0].customer_expectations
        handoffs = cover_for(
            agent=agent,
            by=manager,
            request=CoverRequest(cases=_items(drafts), receivers=[ben.pk, cat.pk], shared=SHARED),
        )
    assert len(handoffs) == 6
    assert {h.to_agent_id for h in handoffs} == {ben.pk, cat.pk}
    assert sum(h.to_agent_id == ben.pk for h in handoffs) == 3
    assert all(h.reason == "manager_reassignment" for h in handoffs)
    # nobody owns anything new until they accept; the away owner stays accountable
    assert set(Case.objects.values_list("owner_id", flat=True)) == {agent.pk}
    # each receiver told at once, once per offer
    offered = Notification.objects.filter(template="cases/email/handoff_offered")
    assert offered.count() == 6
    with time_machine.travel(MONDAY, tick=False):
        for handoff in handoffs:
            handoff_accept(handoff=handoff, by=handoff.to_agent)
    assert set(Case.objects.values_list("owner_id", flat=True)) == {ben.pk, cat.pk}


def test_a_shared_part_alone_cannot_pass_the_gate(team, agent, manager, away_owner):
    ben = make_agent(team)
    with time_machine.travel(MONDAY, tick=False):
        drafts = cover_drafts(agent=agent)
        items = _items(drafts)
        items[1] = CoverCase(case_id=items[1].case_id, actions_taken="x")
        with pytest.raises(CaseRuleError) as err:
            cover_for(
                agent=agent,
                by=manager,
                request=CoverRequest(cases=items, receivers=[ben.pk], shared=SHARED),
            )
    assert err.value.code == "handoff_summary_incomplete"
    ref = drafts[1].case.ref
    assert f"{ref}.customer_needs" in err.value.fields and f"{ref}.next_step" in err.value.fields
    assert not Handoff.objects.exists()  # all or nothing


def test_a_receiver_who_is_away_is_refused(team, agent, manager, away_owner):
    ben = make_agent(team)
    with time_machine.travel(MONDAY, tick=False):
        agent_set_away(agent=ben, by=ben, away=True)
        with pytest.raises(CaseRuleError) as err:
            cover_for(
                agent=agent,
                by=manager,
                request=CoverRequest(
                    cases=_items(cover_drafts(agent=agent)), receivers=[ben.pk], shared=SHARED
                ),
            )
    assert err.value.code == "cover_receiver_unavailable"


def test_only_a_manager_covers_for_an_agent(team, agent, away_owner):
    ben = make_agent(team)
    with time_machine.travel(MONDAY, tick=False), pytest.raises(CaseRuleError) as err:
        cover_for(
            agent=agent,
            by=ben,
            request=CoverRequest(
                cases=_items(cover_drafts(agent=agent)), receivers=[ben.pk], shared=SHARED
            ),
        )
    assert err.value.status_code == 403
    assert not Handoff.objects.filter(status=HandoffStatus.OFFERED).exists()
