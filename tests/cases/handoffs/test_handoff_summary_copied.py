"""A hand-off summary that repeats the case's previous hand-off word for word tells the next
owner nothing new: the gate refuses it with its own code."""

from __future__ import annotations

import pytest

from cases.errors import CaseRuleError
from cases.handoffs.gate import handoff_previous_summary, handoff_summary_check
from cases.handoffs.services import handoff_accept, handoff_decline
from cases.models import Handoff
from tests.factories import good_summary, make_agent, offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]


def test_the_gate_refuses_the_previous_summary_word_for_word():
    previous = good_summary()
    again = good_summary(next_step="  " + previous.next_step.upper().replace(".", "!") + " ")
    result = handoff_summary_check(
        summary=again, open_commitments=[], briefed_ids=[], previous=previous
    )
    assert (result.passed, result.copied, result.code) == (False, True, "handoff_summary_copied")
    assert set(result.errors) == {"actions_taken", "next_step"}


def test_a_summary_that_moves_on_passes():
    previous = good_summary()
    moved_on = good_summary(
        actions_taken="RF-88 approved on Thursday; the refund reached her account on Friday."
    )
    result = handoff_summary_check(
        summary=moved_on, open_commitments=[], briefed_ids=[], previous=previous
    )
    assert result.passed and result.code == "handoff_summary_incomplete"


def test_offering_the_case_on_with_the_summary_it_came_with_is_refused(world):
    case = world["case"]
    first = offer(case, to=world["receiver"])
    handoff_accept(handoff=first, by=world["receiver"])
    case.refresh_from_db()
    assert handoff_previous_summary(case) == good_summary()
    with pytest.raises(CaseRuleError) as caught:
        offer(case, to=world["colleague"], summary=good_summary())
    assert (caught.value.code, caught.value.status_code) == ("handoff_summary_copied", 400)
    assert "word for word" in caught.value.message
    assert Handoff.objects.filter(case=case).count() == 1


def test_a_declined_offer_may_be_offered_again_as_it_was(world):
    case = world["case"]
    declined = offer(case, to=world["receiver"])
    handoff_decline(handoff=declined, by=world["receiver"], reason="I am off tomorrow.")
    assert handoff_previous_summary(case) is None
    again = offer(case, to=make_agent(world["team"]))
    assert again.next_step == good_summary().next_step


def test_the_api_answers_the_copy_with_its_code(world, client):
    case = world["case"]
    handoff_accept(handoff=offer(case, to=world["receiver"]), by=world["receiver"])
    client.force_login(world["receiver"])
    summary = good_summary()
    response = client.post(
        f"/api/v1/cases/{case.ref}/handoffs/",
        {
            "to_agent": world["colleague"].pk,
            "reason": "shift_end",
            "customer_needs": summary.customer_needs,
            "actions_taken": summary.actions_taken,
            "customer_expectations": summary.customer_expectations,
            "next_step": summary.next_step,
            "briefed_commitments": [],
        },
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "handoff_summary_copied"
    assert "next_step" in response.json()["fields"]
