"""The dashboard, the agents page, the rows behind a figure and the reports API: who may see
them, what they link to, and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from cases.models import Absence
from tests.factories import make_agent
from tests.reports import history

pytestmark = pytest.mark.django_db

PERIOD = "weeks=2&to=2026-03-11"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"authorization": f"Token {token.key}"})


def test_the_dashboard_shows_each_figure_with_a_link_to_its_rows(world):
    html = client_for(world["manager"]).get(f"/manage/?{PERIOD}").content.decode()
    assert "Billing: how ownership is going" in html
    team = world["team"].pk
    # week 1's missed promise, its declined hand-off and the email first replies
    assert (
        f"/manage/promises/?team={team}&amp;status=missed&amp;date_from=2026-03-02"
        "&amp;date_to=2026-03-08" in html
    )
    assert (
        f"/manage/handoffs/?team={team}&amp;date_from=2026-03-02&amp;date_to=2026-03-08"
        "&amp;status=declined" in html
    )
    # first response, measured from the contacts for every channel, with its own page
    assert f"/manage/first-response/?team={team}&amp;weeks=2&amp;to=2026-03-15" in html
    assert 'data-label="Channel">Phone</th>' in html
    # each chart has a table beside it
    assert html.count("<svg") == 5
    # four beside charts, the absences, and satisfaction by hand-offs and promise slips
    assert html.count('<table class="figures') == 6


def test_a_figures_link_opens_the_matching_rows(world):
    client = client_for(world["manager"])
    team = world["team"].pk
    page = client.get(
        f"/manage/promises/?team={team}&status=kept&on_time=on"
        "&date_from=2026-03-02&date_to=2026-03-08"
    )
    assert page.status_code == 200
    assert page.content.decode().count('data-label="Case"') == 3  # kept on time in week 1
    audit = client.get(
        f"/manage/handoffs/?team={team}&date_from=2026-03-02&date_to=2026-03-08&status=declined"
    ).content.decode()
    assert audit.count('class="card" id="handoff-') == 1
    cases = client.get(f"/manage/open-cases/?team={team}&without_promise=on").content.decode()
    assert cases.count('data-label="Case"') == 8


def test_an_agent_gets_403_and_another_teams_manager_404(world):
    assert client_for(world["ada"]).get("/manage/").status_code == 403
    other = client_for(world["other_manager"])
    assert other.get(f"/manage/?team={world['team'].pk}").status_code == 404
    assert other.get(f"/manage/agents/?team={world['team'].pk}").status_code == 404
    assert other.get(f"/manage/promises/?team={world['team'].pk}").status_code == 404


def test_managers_land_on_the_dashboard_and_agents_on_their_queue(world):
    assert client_for(world["manager"]).get("/start/")["Location"] == "/manage/"
    assert client_for(world["ada"]).get("/start/")["Location"] == "/queue/"


@pytest.mark.parametrize("n", [0, 6])
def test_the_dashboard_runs_a_fixed_number_of_queries(world, n, django_assert_max_num_queries):
    for i in range(n):
        extra = make_agent(world["team"], display_name=f"Extra {i}")
        # away now or soon, each with a backup, so the absences panel lists them all
        profile = extra.agent_profile
        profile.backup_agent = world["ada"]
        profile.save()
        Absence.objects.create(
            agent=extra,
            starts_at=history.NOW + timedelta(hours=i - 3),
            ends_at=history.NOW + timedelta(days=3),
            created_by=extra,
        )
    client = client_for(world["manager"])
    # session, user, the header's profile; teams, closed days, promises, hand-offs, today,
    # absences; and the answers to the question at close
    with django_assert_max_num_queries(9):
        assert client.get(f"/manage/?{PERIOD}").status_code == 200
    # nothing changed: the weekly figures (the answers too) come from the cache
    with django_assert_max_num_queries(6):
        assert client.get(f"/manage/?{PERIOD}").status_code == 200


def test_the_agents_page_sorts_and_runs_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    client = client_for(world["manager"])
    with django_assert_max_num_queries(8):
        html = client.get(f"/manage/agents/?{PERIOD}&sort=-missed").content.decode()
    assert html.index("Ada Agent") < html.index("Bo Agent")
    assert 'aria-sort="descending"' in html


def test_the_agents_page_as_csv(world):
    response = client_for(world["manager"]).get(f"/manage/agents/?{PERIOD}&format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    ada = next(r for r in rows if r["name"] == "Ada Agent")
    assert (ada["kept_on_time"], ada["missed"], ada["handoffs_received"]) == ("3", "1", "4")


def test_the_summary_api(world, django_assert_max_num_queries):
    away = make_agent(world["team"], display_name="Ola Away")
    away.agent_profile.backup_agent = world["ada"]
    away.agent_profile.save()
    Absence.objects.create(
        agent=away,
        starts_at=history.NOW - timedelta(hours=1),
        ends_at=history.NOW + timedelta(days=2),
        created_by=away,
    )
    client = api_for(world["manager"])
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/reports/teams/{world['team'].pk}/summary/?{PERIOD}")
    body = response.json()
    assert response.status_code == 200
    assert body["promises"]["kept_on_time_rate"] == 0.5
    assert body["weeks"][0]["handoffs"]["accept_p90_seconds"] == 2640
    assert body["handoffs"]["accept_median_seconds"] == 900
    assert body["today"]["due_next_business_day"] == 2
    assert body["first_response"][0]["attainment"] == 0.5
    # the dashboard's absences panel, as data: who is away, until when, and who covers
    (row,) = body["today"]["away"]
    assert (row["name"], row["away_now"], row["switched"]) == ("Ola Away", True, False)
    assert row["cover"] == world["ada"].pk and row["ends_at"].startswith("2026-03-1")


def test_the_summary_api_as_csv(world):
    client = api_for(world["manager"])
    response = client.get(f"/api/v1/reports/teams/{world['team'].pk}/summary/?{PERIOD}&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["week"] for r in rows] == ["2026-03-02", "2026-03-09", "period"]
    assert rows[0]["promises_missed_rate"] == "0.1667"


def test_the_agents_api(world, django_assert_max_num_queries):
    client = api_for(world["manager"])
    with django_assert_max_num_queries(8):
        response = client.get(
            f"/api/v1/reports/teams/{world['team'].pk}/agents/?{PERIOD}&sort=-handoffs_sent"
        )
    agents = response.json()["agents"]
    assert [a["name"] for a in agents][:2] == ["Bo Agent", "Ada Agent"]
    csv_response = client.get(f"/api/v1/reports/teams/{world['team'].pk}/agents/?format=csv")
    assert csv_response.content.decode().startswith("agent_id,name,open_cases")


def test_api_errors_have_the_error_shape(world):
    team = world["team"].pk
    agent = api_for(world["ada"]).get(f"/api/v1/reports/teams/{team}/summary/")
    assert agent.status_code == 403 and agent.json()["code"] == "manager_only"
    other = api_for(world["other_manager"]).get(f"/api/v1/reports/teams/{team}/agents/")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    bad = api_for(world["manager"]).get(f"/api/v1/reports/teams/{team}/summary/?weeks=99")
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "fields"}
    assert connection.vendor in ("sqlite", "postgresql")


def test_the_dashboard_lists_who_is_away_with_links_to_their_promises(world):
    ada = world["ada"]
    Absence.objects.create(
        agent=ada,
        starts_at=history.NOW - timedelta(hours=1),
        ends_at=history.NOW + timedelta(days=2),
        note="Training",
        created_by=ada,
    )
    with time_machine.travel(history.NOW, tick=False):
        html = client_for(world["manager"]).get(f"/manage/?{PERIOD}").content.decode()
    panel = html.split('id="absences"', 1)[1].split("</table>", 1)[0]
    assert "Ada Agent" in panel and "Training" in panel
    assert f"owner={ada.pk}" in panel and "due_after=2026-03-11T09" in panel
    assert f"/manage/agents/{ada.pk}/cover-for/" in panel


def test_the_cover_for_page_leads_back_to_the_teams_agents_page(world):
    html = client_for(world["manager"]).get(f"/manage/agents/{world['ada'].pk}/cover-for/")
    team = world["team"]
    assert (
        f'<a href="/manage/agents/?team={team.pk}">Back to the agents of {team.name}</a>'
        in html.content.decode()
    )
