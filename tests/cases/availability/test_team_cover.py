"""A team's managers set each agent's backup and the team's on-duty agent, on a page and over
the API (``teams/{id}/cover/``), through one service; agents and other teams' managers may not."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases.models import AgentProfile, Team
from tests.factories import TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(team, agent, manager):
    amelia = make_agent(team, display_name="Amelia Clarke")
    return {"team": team, "oliver": agent, "amelia": amelia, "manager": manager}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(team) -> str:
    return f"/api/v1/teams/{team.pk}/cover/"


def _backup_of(user):
    return AgentProfile.objects.get(user=user).backup_agent_id


def test_a_manager_sets_a_backup_and_the_on_duty_agent_over_the_api(crew):
    response = _api(crew["manager"]).put(
        _url(crew["team"]),
        {
            "on_duty": crew["amelia"].pk,
            "backups": [{"agent": crew["oliver"].pk, "backup": crew["amelia"].pk}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert Team.objects.get(pk=crew["team"].pk).on_duty_id == crew["amelia"].pk
    assert _backup_of(crew["oliver"]) == crew["amelia"].pk
    body = _api(crew["manager"]).get(_url(crew["team"])).json()
    assert body["on_duty"]["name"] == "Amelia Clarke"
    row = next(r for r in body["agents"] if r["agent"]["id"] == crew["oliver"].pk)
    assert row["backup"] == {"id": crew["amelia"].pk, "name": "Amelia Clarke"}


def test_an_agent_of_the_team_is_refused(crew):
    client = _api(crew["oliver"])
    assert client.get(_url(crew["team"])).json()["code"] == "not_team_manager"
    refused = client.put(
        _url(crew["team"]),
        {"on_duty": crew["oliver"].pk, "backups": []},
        format="json",
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_team_manager")
    assert Team.objects.get(pk=crew["team"].pk).on_duty_id is None


def test_another_teams_manager_does_not_see_the_team(crew):
    stranger = make_manager(TeamFactory())
    response = _api(stranger).get(_url(crew["team"]))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    "body_of",
    [
        lambda c: {
            "on_duty": None,
            "backups": [{"agent": c["oliver"].pk, "backup": c["oliver"].pk}],
        },
        lambda c: {"on_duty": c["manager"].pk, "backups": []},
        lambda c: {"on_duty": make_agent(TeamFactory()).pk, "backups": []},
        lambda c: {"on_duty": None, "backups": [{"agent": c["manager"].pk, "backup": None}]},
    ],
    ids=["own-backup", "on-duty-not-an-agent-of-the-team", "other-team", "not-an-agent"],
)
def test_an_invalid_cover_changes_nothing(crew, body_of):
    response = _api(crew["manager"]).put(_url(crew["team"]), body_of(crew), format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cover")
    assert _backup_of(crew["oliver"]) is None


def test_a_bad_body_is_a_400(crew):
    response = _api(crew["manager"]).put(
        _url(crew["team"]), {"on_duty": "Amelia", "backups": "all"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_manager_page_saves_backups_and_on_duty(crew):
    client = _page(crew["manager"])
    url = f"/manage/teams/{crew['team'].pk}/cover/"
    html = client.get(url).content.decode()
    assert "backups and on duty" in html
    saved = client.post(
        url,
        {"on_duty": str(crew["amelia"].pk), f"backup-{crew['oliver'].pk}": str(crew["amelia"].pk)},
    )
    assert saved.status_code == 302
    assert _backup_of(crew["oliver"]) == crew["amelia"].pk
    assert Team.objects.get(pk=crew["team"].pk).on_duty_id == crew["amelia"].pk


def test_the_page_refuses_a_backup_of_oneself_and_saves_nothing(crew):
    client = _page(crew["manager"])
    url = f"/manage/teams/{crew['team'].pk}/cover/"
    refused = client.post(url, {f"backup-{crew['amelia'].pk}": str(crew["amelia"].pk)})
    assert refused.status_code == 400
    assert "cannot be their own backup" in refused.content.decode()
    assert _backup_of(crew["amelia"]) is None


def test_an_agent_cannot_open_the_manager_page(crew):
    response = _page(crew["oliver"]).get(f"/manage/teams/{crew['team'].pk}/cover/")
    assert response.status_code == 404


def test_the_agents_report_links_to_the_page(crew):
    html = _page(crew["manager"]).get(f"/manage/agents/?team={crew['team'].pk}").content.decode()
    assert f"/manage/teams/{crew['team'].pk}/cover/" in html
