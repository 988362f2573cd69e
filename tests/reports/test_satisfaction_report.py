"""The answers to the question at close in the reports: by week beside the kept-on-time rate
and hand-offs, and split by hand-offs and promise slips, with a caution under 20 answers;
the dashboard shows the same figures as the CSV and the API."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from cases.models import SatisfactionAnswer
from reports.period import Window
from reports.satisfaction import satisfaction_weekly
from tests.factories import CaseFactory
from tests.reports import history
from tests.reports.test_pages_and_api import PERIOD, api_for, client_for

pytestmark = pytest.mark.django_db


def _answers(team, owner, rows):
    """rows: (day offset from week 1's Monday, score, handoffs, kept, renegotiated, missed)."""
    for day, score, handoffs, kept, reneg, missed in rows:
        at = history.WEEK1 + timedelta(days=day, hours=12)
        SatisfactionAnswer.objects.create(
            case=CaseFactory(team=team, owner=owner),
            team=team,
            final_owner=owner,
            asked_at=at - timedelta(hours=2),
            handoffs=handoffs,
            promises_kept=kept,
            promises_renegotiated=reneg,
            promises_missed=missed,
            score=score,
            answered_at=at,
            first_answered_at=at,
        )


@pytest.fixture
def answered(world):
    rows = (
        [(1, 5, 0, 1, 0, 0)] * 12  # week 1: one owner, promises kept
        + [(2, 2, 1, 1, 0, 1)] * 3  # week 1: changed hands, a promise missed
        + [(8, 4, 1, 0, 1, 0)] * 5  # week 2: changed hands, renegotiated
        + [(9, 3, 0, 0, 0, 0)] * 2  # week 2: no promise
    )
    _answers(world["team"], world["ada"], rows)
    _answers(world["other"], world["ada"], [(1, 1, 0, 0, 0, 1)])  # another team's: not counted
    return world


def test_the_figures_split_by_week_hands_and_slips(answered):
    s = satisfaction_weekly(team=answered["team"], window=Window.ending(history.NOW.date(), 2))
    week1, week2 = (s.weeks[d] for d in sorted(s.weeks))
    assert (week1.answers, week1.mean, week1.low) == (15, 4.4, 3)
    assert (week2.answers, week2.mean) == (7, round((5 * 4 + 2 * 3) / 7, 2))
    groups = {g.key: g.scores for g in s.groups}
    assert (groups["one_owner"].answers, groups["changed_hands"].answers) == (14, 8)
    assert groups["changed_hands"].mean == round((3 * 2 + 5 * 4) / 8, 2)
    assert [groups[k].answers for k in ("kept", "renegotiated", "missed", "none")] == [12, 5, 3, 2]
    assert groups["missed"].low_rate == 1.0
    # fewer than 20 answers in a cell: a caution; the period's 22 answers need none
    assert groups["changed_hands"].caution and not s.period.caution


def _dashboard_table(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_dashboard_shows_the_figures_of_the_csv(answered, django_assert_max_num_queries):
    html = client_for(answered["manager"]).get(f"/manage/?{PERIOD}").content.decode()
    team = answered["team"].pk
    api = api_for(answered["manager"])
    # the token, the team, the answers, the promises, the hand-offs
    with django_assert_max_num_queries(5):
        response = api.get(f"/api/v1/reports/teams/{team}/satisfaction/?{PERIOD}&format=csv")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    weeks = [line for line in lines[1:] if re.match(r"\d{4}-", line[0])]
    shown = _dashboard_table(html, "satisfaction-weeks")
    assert [row[1:4] for row in shown] == [[w[1], w[2], w[3]] for w in weeks]
    assert [row[1] for row in shown] == ["15", "7"]
    start = lines.index(["group", "label", "answers", "mean", "low", "low_rate", "caution"])
    groups = lines[start + 1 :]
    shown_groups = _dashboard_table(html, "satisfaction-groups")
    assert [(g[2], g[3]) for g in groups] == [(row[1], row[2]) for row in shown_groups]
    assert [row[4].startswith("only") for row in shown_groups] == [g[6] == "True" for g in groups]


def test_the_api_answers_json_with_the_same_figures(answered):
    team = answered["team"].pk
    body = (
        api_for(answered["manager"])
        .get(f"/api/v1/reports/teams/{team}/satisfaction/?{PERIOD}")
        .json()
    )
    assert body["period"] == {"answers": 22, "mean": 4.18, "low": 3, "low_rate": 0.1364}
    assert [w["answers"] for w in body["weeks"]] == [15, 7]
    assert {"kept_on_time_rate", "handoffs_offered"} <= set(body["weeks"][0])
    assert (
        api_for(answered["ada"])
        .get(f"/api/v1/reports/teams/{team}/satisfaction/?{PERIOD}")
        .status_code
        == 403
    )
