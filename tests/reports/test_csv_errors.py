"""Every CSV route of the API refuses in the API's error shape, as JSON: asked for CSV, a
refused request gets ``{"code", "message"}`` with the JSON content type, never a CSV table
of the error nor JSON labelled as CSV. One renderer (``caseowner.api.CsvRenderer``) does it
for all of them."""

from __future__ import annotations

import pytest

from tests.cases.conftest import client_for
from tests.factories import TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db

CSV_ROUTES = [
    "/api/v1/reports/teams/{team}/summary/?format=csv&to=0001-01-01",
    "/api/v1/reports/teams/{team}/agents/?format=csv&to=0001-01-01",
    "/api/v1/reports/commitments/?format=csv&to=0001-01-01",
    "/api/v1/reports/handoffs/?format=csv&date_from=0001-01-01",
]


@pytest.mark.parametrize("route", CSV_ROUTES)
def test_a_refused_csv_request_answers_the_json_error_shape(route):
    team = TeamFactory()
    make_agent(team)
    response = client_for(make_manager(team)).get(route.format(team=team.pk))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] in ("invalid_input", "invalid_period"), body
    assert body["message"]


@pytest.mark.parametrize("route", CSV_ROUTES[:2])
def test_another_teams_csv_is_refused_as_json(route):
    team, other = TeamFactory(), TeamFactory()
    response = client_for(make_manager(other)).get(route.format(team=team.pk).split("&")[0])
    assert response.status_code == 404, response.content  # another team's is not there
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"]
