"""Who may receive an offer (the form's choices and the service's rule are one), the ids an
offer names, and what a manager may filter the audit by."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.availability.cover_for import cover_receivers
from cases.errors import CaseRuleError
from cases.handoffs import selectors as handoff_selectors
from tests.factories import TeamFactory, good_summary, make_agent, offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]


def receivers(world, by):
    choices = handoff_selectors.handoff_receiver_choices(case=world["case"], by=by)
    return {p.user_id for p in choices.agents}, choices.teams


def test_an_agent_may_offer_to_the_active_agents_of_the_cases_team(world):
    make_agent(world["team"], user__is_active=False)
    agents, teams = receivers(world, world["owner"])
    assert agents == {world["receiver"].pk, world["colleague"].pk}
    assert teams == []  # no team to choose: the case stays in its team


def test_a_manager_of_two_teams_may_offer_to_either_teams_agents(world):
    world["other"].managers.add(world["manager"])
    agents, teams = receivers(world, world["manager"])
    assert agents == {world["receiver"].pk, world["colleague"].pk, world["outsider"].pk}
    assert teams == sorted([world["team"], world["other"]], key=lambda t: t.name)


def test_a_manager_of_another_team_only_may_not_move_the_case_there(world):
    agents, teams = receivers(world, world["other_manager"])
    assert world["outsider"].pk not in agents and teams == []


def test_a_superuser_may_offer_to_any_teams_agents(world):
    admin = make_agent(None, user__is_superuser=True)
    agents, teams = receivers(world, admin)
    assert world["outsider"].pk in agents
    assert {t.pk for t in teams} == {world["team"].pk, world["other"].pk}


def test_every_listed_receiver_is_accepted_by_the_service(world):
    world["other"].managers.add(world["manager"])
    agents, teams = receivers(world, world["manager"])
    handoff = offer(world["case"], by=world["manager"], to=world["outsider"])
    assert world["outsider"].pk in agents and handoff.to_team == world["other"]


def test_an_agent_outside_the_choices_is_refused_by_the_service(world):
    agents, _ = receivers(world, world["owner"])
    assert world["outsider"].pk not in agents
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["outsider"], summary=good_summary())
    assert caught.value.code == "handoff_receiver_not_in_team"


def test_unknown_ids_in_an_offer_have_their_codes(world):
    with pytest.raises(CaseRuleError) as caught:
        handoff_selectors.handoff_receiver_by_id(999_999)
    assert (caught.value.code, caught.value.fields) == (
        "handoff_receiver_unknown",
        {"to_agent": ["No such agent."]},
    )
    with pytest.raises(CaseRuleError) as caught:
        handoff_selectors.handoff_team_by_id(999_999)
    assert caught.value.code == "handoff_team_unknown"
    assert handoff_selectors.handoff_team_by_id(None) is None


def test_a_manager_filters_the_audit_by_their_teams_and_agents(world):
    unmanaged = TeamFactory(name="Elsewhere")
    stranger = make_agent(unmanaged)
    choices = handoff_selectors.audit_choices(user=world["manager"])
    assert choices.teams == [(world["team"].pk, "Billing")]
    agent_ids = {pk for pk, _ in choices.agents}
    assert {world["owner"].pk, world["receiver"].pk} <= agent_ids
    assert stranger.pk not in agent_ids and world["outsider"].pk not in agent_ids


def test_an_agent_has_no_audit_choices(world):
    choices = handoff_selectors.audit_choices(user=world["owner"])
    assert (choices.teams, choices.agents) == ([], [])


def test_the_offer_form_and_cover_for_list_receivers_by_one_rule(world):
    """Both read ``agents_who_may_receive``: an inactive agent is on neither list, nor the
    agent whose cases move; everyone else present in the team is on both."""
    make_agent(world["team"], user__is_active=False)
    offer_form, _ = receivers(world, world["manager"])
    cover_for = {
        r.user_id
        for r in cover_receivers(agent=world["owner"], by=world["manager"], at=timezone.now())
    }
    assert offer_form == cover_for == {world["receiver"].pk, world["colleague"].pk}


def test_a_manager_who_works_in_the_team_is_not_among_her_own_receivers(world):
    """A manager who is also one of the team's agents spreads a colleague's cases over the
    others: the offer form and "cover for" both leave her out (she is in the owner's list)."""
    manager = world["manager"]
    manager.agent_profile.teams.add(world["team"])
    offer_form, _ = receivers(world, manager)
    cover_for = {
        r.user_id for r in cover_receivers(agent=world["owner"], by=manager, at=timezone.now())
    }
    assert manager.pk not in offer_form and manager.pk not in cover_for
    assert offer_form == cover_for == {world["receiver"].pk, world["colleague"].pk}
    assert manager.pk in receivers(world, world["owner"])[0]
