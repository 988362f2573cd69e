"""The commitments report is a report like the others: the dashboard's period (``Window``)
and the dashboard's promise figures, over every team the reader sees."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from reports.errors import ReportRuleError
from reports.period import Window

pytestmark = pytest.mark.django_db


def test_the_commitments_reports_days_are_the_dashboards_weeks():
    weeks = Window.ending(date(2026, 3, 11), weeks=2)
    assert (
        Window.between(start=date(2026, 3, 2), end=date(2026, 3, 15), today=date(2026, 3, 11))
        == weeks
    )
    assert (weeks.days, weeks.weeks, weeks.last_day) == (14, 2, date(2026, 3, 15))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 2), date(2026, 3, 1)),  # backwards
        (date(2025, 2, 28), date(2026, 3, 1)),  # 367 days
        (None, date(9999, 12, 31)),  # its end falls outside the calendar
    ],
)
def test_a_period_the_commitments_report_cannot_show_is_refused(start, end):
    with pytest.raises(ReportRuleError) as err:
        Window.between(start=start, end=end, today=date(2026, 3, 11))
    assert (err.value.code, err.value.status_code) == ("invalid_period", 400)


def test_the_commitments_report_and_the_team_summary_give_the_same_figures(world):
    client = APIClient()
    client.force_authenticate(world["manager"])
    team = world["team"].pk
    summary = client.get(f"/api/v1/reports/teams/{team}/summary/?weeks=2&to=2026-03-11").json()
    report = client.get(f"/api/v1/reports/commitments/?from=2026-03-02&to=2026-03-15&team={team}")
    (row,) = report.json()["teams"]
    figures = summary["promises"]
    shared = set(row) & set(figures)
    assert shared >= {"kept", "kept_on_time", "missed", "kept_on_time_rate", "missed_rate"}
    assert {k: row[k] for k in shared} == {k: figures[k] for k in shared}
    assert row["ended"] == figures["decided"] + figures["withdrawn"]
