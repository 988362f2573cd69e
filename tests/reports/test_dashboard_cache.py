"""The dashboard's weekly figures come from the cache while nothing changed, and a change made
through a service shows on the very next load (reports.dashboard_cache)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.handoffs.gate import HandoffRubric
from cases.handoffs.outcomes import handoff_review
from cases.models import Handoff
from commitments.services import commitment_create
from reports.dashboard_cache import last_change
from tests.factories import CaseFactory, make_manager

pytestmark = pytest.mark.django_db

PAGE = "/manage/?weeks=2&to=2026-03-11"


def load(client: Client) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    assert response.status_code == 200
    return response.context, len(queries)


def test_a_review_shows_at_once_and_an_unchanged_team_is_read_from_the_cache(world):
    client = Client()
    client.force_login(world["manager"])
    first, first_queries = load(client)
    again, again_queries = load(client)
    # the weekly figures (promises, hand-offs, first response: 3 queries) were kept
    assert again_queries <= first_queries - 3
    assert again["summary"].handoffs.reviews == first["summary"].handoffs.reviews == 2
    assert again["attainment"].channels == first["attainment"].channels

    decided = Handoff.objects.filter(team=world["team"], status="accepted").order_by("pk")[1]
    rubric = HandoffRubric(
        context_complete=4, next_step_clear=4, commitments_carried=4, customer_informed=4
    )
    handoff_review(handoff=decided, by=make_manager(world["team"]), rubric=rubric)

    after, after_queries = load(client)
    assert after["summary"].handoffs.reviews == 3
    assert after_queries == first_queries


def test_every_timeline_change_and_the_team_settings_change_the_key(world):
    team = world["team"]
    before = last_change(team)
    case = CaseFactory(team=team, owner=world["ada"])
    commitment_create(
        case=case, by=world["ada"], description="Call back", kind="callback", due="2 days"
    )
    after_promise = last_change(team)
    assert after_promise != before
    team.first_response_goal_percent = 95
    team.save(update_fields=["first_response_goal_percent"])
    assert last_change(team) != after_promise


def test_the_key_holds_for_agents_of_any_id(world):
    """The key sums each agent's backup with their id squared: with ids past 46,341 that
    overflowed PostgreSQL's 32-bit integer and the dashboard answered 500."""
    from tests.factories import AgentFactory, UserFactory

    team, manager = world["team"], world["manager"]
    first = AgentFactory(team=team, user=UserFactory(id=70_001)).user
    second = AgentFactory(team=team, user=UserFactory(id=70_002)).user
    profile = first.agent_profile
    profile.backup_agent = second
    profile.save()
    client = Client()
    client.force_login(manager)
    assert client.get(f"/manage/?team={team.pk}").status_code == 200
    before = last_change(team)
    type(profile).objects.filter(pk=profile.pk).update(backup_agent=None)  # no signal sent
    assert last_change(team) != before
