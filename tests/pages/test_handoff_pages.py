"""Hand-offs on the pages: the brief form on the case page, and the offers waiting in the
queue accepted or declined."""

from __future__ import annotations

import pytest

from cases.models import Case, Handoff, HandoffStatus
from commitments.models import Commitment
from tests.factories import CaseFactory, good_summary, offer
from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db


def offer_briefed(case: Case, **kwargs) -> Handoff:
    """An offer that ticks every open promise of the case as briefed."""
    ids = list(Commitment.objects.filter(case=case, status="open").values_list("pk", flat=True))
    return offer(case, briefed_commitments=ids, **kwargs)


def test_offering_a_handoff_with_a_weak_summary_shows_the_gate_errors(org):
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["colleague"].pk,
            "reason": "shift_end",
            "customer_needs": "see notes",
            "actions_taken": "see notes",
            "customer_expectations": "see notes",
            "next_step": "see notes",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert not Handoff.objects.filter(case=org["case"]).exists()


def test_offering_a_handoff_with_a_good_brief_creates_the_offer(org):
    summary = good_summary()
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["colleague"].pk,
            "reason": "shift_end",
            "customer_needs": summary.customer_needs,
            "actions_taken": summary.actions_taken,
            "customer_expectations": summary.customer_expectations,
            "next_step": summary.next_step,
            "briefed_commitments": [
                c.pk for c in Commitment.objects.filter(case=org["case"], status="open")
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    handoff = Handoff.objects.get(case=org["case"])
    assert handoff.to_agent == org["colleague"] and handoff.status == HandoffStatus.OFFERED
    org["case"].refresh_from_db()
    assert org["case"].owner == org["owner"]  # the sender stays accountable until acceptance


def test_the_offer_form_lists_the_open_promises_to_brief(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert f'name="briefed_commitments" value="{org["promise"].pk}"' in html


def test_a_manager_reassigns_a_case_to_another_team_they_manage(org):
    org["other_team"].managers.add(org["manager"])
    summary = good_summary()
    client = client_for(org["manager"])
    html = client.get(case_url(org["case"])).content.decode()
    assert "Team that takes the case" in html
    assert f'<option value="{org["outsider"].pk}">Otto Side' in html
    response = client.post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["outsider"].pk,
            "reason": "manager_reassignment",
            "customer_needs": summary.customer_needs,
            "actions_taken": summary.actions_taken,
            "customer_expectations": summary.customer_expectations,
            "next_step": summary.next_step,
            "to_team": org["other_team"].pk,
            "briefed_commitments": [
                c.pk for c in Commitment.objects.filter(case=org["case"], status="open")
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    handoff = Handoff.objects.get(case=org["case"])
    assert handoff.to_team == org["other_team"] and handoff.to_agent == org["outsider"]


def test_an_agent_offers_only_to_their_cases_team(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Team that takes the case" not in html
    assert f'<option value="{org["outsider"].pk}">' not in html


def test_the_queue_shows_offers_waiting_with_the_brief_and_accepts_one(org):
    theirs = CaseFactory(team=org["team"], owner=org["colleague"], subject="Needs you")
    handoff = offer(theirs, to=org["owner"])
    client = client_for(org["owner"])
    html = client.get("/queue/").content.decode()
    assert "Needs you" in html and good_summary().next_step in html
    response = client.post(f"/handoffs/{handoff.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == case_url(theirs)
    theirs.refresh_from_db()
    assert theirs.owner == org["owner"]


def test_declining_an_offer_needs_a_reason_and_keeps_the_owner(org):
    theirs = CaseFactory(team=org["team"], owner=org["colleague"])
    handoff = offer(theirs, to=org["owner"])
    client = client_for(org["owner"])
    client.post(f"/handoffs/{handoff.pk}/decline/", {"reason": ""})
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OFFERED
    client.post(f"/handoffs/{handoff.pk}/decline/", {"reason": "On leave from tomorrow."})
    handoff.refresh_from_db()
    theirs.refresh_from_db()
    assert handoff.status == HandoffStatus.DECLINED and theirs.owner == org["colleague"]


def test_someone_else_cannot_accept_an_offer_meant_for_another(org):
    handoff = offer_briefed(org["case"], to=org["colleague"])
    response = client_for(org["manager"]).post(f"/handoffs/{handoff.pk}/accept/", follow=True)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OFFERED
    assert response.status_code == 200
