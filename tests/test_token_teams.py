"""The API token check brings the user's teams (worked in or managed, with their time zone and
phone region) in its one statement and keeps them with the cached token: the requests after
it read no teams. A change of who is in a team, or of a team's zone or region, empties the
cache at once in the process that made it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from rest_framework.authtoken.models import Token

from caseowner import auth
from cases import permissions
from cases.models import Team
from tests.factories import TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 16, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    auth.forget_tokens()
    with time_machine.travel(START, tick=False):
        yield
    auth.forget_tokens()


def _teams(key: str) -> dict[int, tuple[str, str]]:
    user, _token = auth.TokenAuthentication().authenticate_credentials(key)
    return {pk: permissions._team_rows(user)[pk] for pk in permissions.team_ids_visible(user)}


def test_the_token_and_the_teams_are_one_statement_then_none(django_assert_num_queries):
    worked, other = TeamFactory(time_zone="Europe/London"), TeamFactory(time_zone="Asia/Tokyo")
    agent = make_agent(worked)
    agent.agent_profile.teams.add(other)
    managed = TeamFactory(phone_region="DE")
    managed.managers.add(agent)
    token = Token.objects.create(user=agent)
    expected = {
        worked.pk: ("Europe/London", worked.phone_region),
        other.pk: ("Asia/Tokyo", other.phone_region),
        managed.pk: (managed.time_zone, "DE"),
    }
    with django_assert_num_queries(1):
        assert _teams(token.key) == expected
    with django_assert_num_queries(0):
        assert _teams(token.key) == expected


def test_a_manager_without_teams_of_their_own_and_a_user_without_any():
    team = TeamFactory()
    manager = make_manager(team)
    nobody = make_agent()
    assert _teams(Token.objects.create(user=manager).key) == {
        team.pk: (team.time_zone, team.phone_region)
    }
    assert _teams(Token.objects.create(user=nobody).key) == {}


def test_joining_leaving_or_managing_a_team_is_seen_at_once():
    first, second = TeamFactory(), TeamFactory()
    agent = make_agent(first)
    key = Token.objects.create(user=agent).key
    assert set(_teams(key)) == {first.pk}
    agent.agent_profile.teams.add(second)
    assert set(_teams(key)) == {first.pk, second.pk}
    first.agents.remove(agent.agent_profile)  # from the team's side
    assert set(_teams(key)) == {second.pk}
    managed = TeamFactory()
    managed.managers.add(agent)
    assert set(_teams(key)) == {second.pk, managed.pk}
    managed.managers.clear()
    assert set(_teams(key)) == {second.pk}
    second.delete()
    assert _teams(key) == {}


def test_a_team_s_zone_is_seen_at_once_and_its_daily_saves_keep_the_cache(
    django_assert_num_queries,
):
    team = TeamFactory(time_zone="Europe/London")
    agent = make_agent(team)
    key = Token.objects.create(user=agent).key
    assert _teams(key)[team.pk][0] == "Europe/London"
    team.last_assigned = agent
    team.save(update_fields=["last_assigned"])
    with django_assert_num_queries(0):
        assert _teams(key)[team.pk][0] == "Europe/London"
    Team.objects.get(pk=team.pk).save()  # a full save (the admin): read again
    with django_assert_num_queries(1):
        assert _teams(key)[team.pk][0] == "Europe/London"
    team.time_zone = "Europe/Berlin"
    team.save(update_fields=["time_zone"])
    assert _teams(key)[team.pk][0] == "Europe/Berlin"
