"""The commitments report: rates per team and agent over a period, JSON or CSV."""

from __future__ import annotations

import csv
import io

import pytest

from commitments.models import Commitment
from commitments.services import commitment_mark_kept, commitment_renegotiate
from commitments.sweep import commitments_sweep_due
from tests.commitments.conftest import london, promise
from tests.factories import TeamFactory, make_agent

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/reports/commitments/"


@pytest.fixture
def history(time_machine, open_case, agent, team, manager):
    """One agent: 2 kept on time, 1 kept late, 1 renegotiated before due, 1 missed."""
    time_machine.move_to(london(2026, 11, 2, 10), tick=False)
    case = open_case()
    commitment_mark_kept(commitment=Commitment.objects.get(case=case), by=agent)
    other = make_agent(team)
    promises = [promise(case, agent, due="1 business day") for _ in range(5)]
    time_machine.move_to(london(2026, 11, 2, 12), tick=False)
    commitment_mark_kept(commitment=promises[0], by=agent)
    commitment_renegotiate(commitment=promises[3], by=agent, due="3 business days", reason="Late")
    time_machine.move_to(london(2026, 11, 2, 15), tick=False)
    commitment_mark_kept(commitment=promises[1], by=agent)
    time_machine.move_to(london(2026, 11, 3, 10, 30), tick=False)
    commitment_mark_kept(commitment=promises[2], by=agent)  # late: nobody swept yet
    commitments_sweep_due()  # promises[4] missed
    return {"agent": agent, "other": other, "manager": manager, "team": team}


def test_the_report_gives_rates_per_team_and_agent(
    history, client_for, django_assert_max_num_queries
):
    client = client_for(history["manager"])
    client.get("/api/v1/reports/commitments/?from=2026-11-01&to=2026-11-30")
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/reports/commitments/?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    body = response.json()
    (team,) = body["teams"]
    assert team["team_id"] == history["team"].pk
    # first reply + 3 kept (one late) + 1 renegotiated + 1 missed; the successor is still open
    assert (team["kept"], team["kept_on_time"], team["renegotiated"], team["missed"]) == (
        4,
        3,
        1,
        1,
    )
    assert team["renegotiated_before_due"] == 1
    assert team["kept_on_time_rate"] == round(3 / 6, 4)
    assert team["proactive_rate"] == round(1 / 6, 4)
    assert team["missed_rate"] == round(1 / 6, 4)
    (row,) = body["agents"]
    assert row["agent_id"] == history["agent"].pk


def test_the_report_as_csv(history, client_for):
    response = client_for(history["manager"]).get(
        "/api/v1/reports/commitments/?from=2026-11-01&to=2026-11-30&format=csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["scope"] for r in rows] == ["team", "agent"]
    assert rows[1]["kept_on_time"] == "3"


def test_agents_see_only_their_own_row(history, client_for):
    body = (
        client_for(history["other"])
        .get("/api/v1/reports/commitments/?from=2026-11-01&to=2026-11-30")
        .json()
    )
    assert len(body["teams"]) == 1
    assert body["agents"] == []


def test_the_report_refuses_a_backwards_period(history, client_for):
    response = client_for(history["manager"]).get(
        "/api/v1/reports/commitments/?from=2026-11-30&to=2026-11-01"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_period")
    response = client_for(history["manager"]).get("/api/v1/reports/commitments/?from=yesterday")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")


def test_the_report_hides_other_teams(history, client_for):
    stranger = make_agent(TeamFactory())
    response = client_for(stranger).get(f"/api/v1/reports/commitments/?team={history['team'].pk}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?to=0001-01-01",  # the default start would be before year 1
        "?from=9999-12-31&to=9999-12-31",  # the day after the last one does not exist
        "?from=0001-01-01&to=9999-12-31",
    ],
)
def test_periods_beyond_the_calendar_are_refused_with_the_error_shape(history, client_for, query):
    response = client_for(history["manager"]).get(REPORT + query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_period"
    assert set(body) == {"code", "message", "fields"}
    assert set(body["fields"]) == {"from", "to"}


def test_the_first_and_last_reportable_days_give_empty_figures(history, client_for):
    client = client_for(history["manager"])
    for query in ("?from=0001-01-01&to=0001-01-01", "?from=9999-12-30&to=9999-12-30"):
        response = client.get(REPORT + query)
        assert response.status_code == 200, response.json()
        assert (response.json()["teams"], response.json()["agents"]) == ([], [])


def test_a_refused_period_as_csv_is_still_an_error(history, client_for):
    response = client_for(history["manager"]).get(REPORT + "?to=0001-01-01&format=csv")
    assert response.status_code == 400
    assert "invalid_period" in response.content.decode()


def test_a_team_name_a_spreadsheet_would_run_is_exported_as_text(history, client_for):
    history["team"].name = '=HYPERLINK("http://evil.example","Team")'
    history["team"].save()
    response = client_for(history["manager"]).get(
        "/api/v1/reports/commitments/?from=2026-11-01&to=2026-11-30&format=csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["team"] == "'" + history["team"].name
