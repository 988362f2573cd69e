"""The dashboard's figures over a small known history: every rate and percentile exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from cases.permissions import managed_team_ids
from reports import selectors
from reports.errors import NotFoundError, ReportRuleError
from reports.selectors import Window, percentile_cont, team_agents, team_summary
from tests.factories import make_agent
from tests.reports import history

pytestmark = pytest.mark.django_db

WINDOW = Window(start=date(2026, 3, 2), days=14)


@pytest.fixture
def summary(world):
    with time_machine.travel(history.NOW, tick=False):
        return team_summary(team=world["team"], window=WINDOW, now=history.NOW)


def test_the_window_ends_with_the_week_holding_the_day():
    window = Window.ending(date(2026, 3, 11), weeks=2)
    assert window == WINDOW
    assert window.last_day == date(2026, 3, 15)
    assert window.week_starts() == [date(2026, 3, 2), date(2026, 3, 9)]


def test_a_window_longer_than_the_limit_is_refused():
    with pytest.raises(ReportRuleError) as exc:
        Window.ending(date(2026, 3, 11), weeks=27)
    assert exc.value.code == "invalid_period"


def test_promise_rates_by_week(summary):
    w1, w2 = (w.promises for w in summary.weeks)
    assert (w1.kept, w1.kept_on_time, w1.renegotiated, w1.renegotiated_before_due) == (4, 3, 1, 1)
    assert (w1.missed, w1.withdrawn, w1.decided) == (1, 1, 6)
    assert (w1.kept_on_time_rate, w1.proactive_rate, w1.missed_rate) == (0.5, 0.1667, 0.1667)
    assert (w2.kept_on_time, w2.missed, w2.decided) == (1, 1, 2)
    assert (w2.kept_on_time_rate, w2.proactive_rate, w2.missed_rate) == (0.5, 0.0, 0.5)


def test_promise_rates_over_the_period(summary):
    p = summary.promises
    assert (p.kept_on_time, p.renegotiated_before_due, p.missed, p.decided) == (4, 1, 2, 8)
    assert (p.kept_on_time_rate, p.proactive_rate, p.missed_rate) == (0.5, 0.125, 0.25)


def test_first_response_attainment_per_channel(summary):
    [email] = summary.first_response
    assert email.channel == "email"
    assert email.target == timedelta(hours=6)
    assert (email.figures.kept_on_time, email.figures.decided, email.attainment) == (1, 2, 0.5)


def test_handoff_figures_by_week(summary):
    w1, w2 = (w.handoffs for w in summary.weeks)
    assert (w1.offered, w1.cases, w1.accepted, w1.declined, w1.flagged) == (4, 4, 3, 1, 1)
    assert (w1.score_avg, w1.reviews, w1.review_avg) == (70.0, 2, 3.75)
    assert sorted(w1.accept_seconds) == [600, 1200, 3000]
    assert (w1.accept_median, w1.accept_p90) == (1200, 2640)
    assert (w2.offered, w2.accepted, w2.waiting, w2.accept_median, w2.accept_p90) == (
        2,
        1,
        1,
        60,
        60,
    )


def test_time_to_accept_over_the_period(summary):
    # [60, 600, 1200, 3000]: median between 600 and 1200, p90 at 2.7 ranks
    assert summary.handoffs.accept_median == 900
    assert summary.handoffs.accept_p90 == pytest.approx(2460)


def test_percentiles_interpolate_like_postgresql():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert percentile_cont([10, 20], 0.9) == 19


def test_today(summary):
    today = summary.today
    assert today.horizon == history.at(history.NOW, days=1)  # Thursday 10:00
    assert (today.due_soon, today.overdue, today.offers_waiting) == (2, 1, 1)
    assert (today.open_cases, today.without_promise) == (10, 8)


def test_the_summary_takes_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        team_summary(team=world["team"], window=WINDOW, now=history.NOW)


def test_agents_side_by_side(world):
    rows = {a.name: a for a in team_agents(team=world["team"], window=WINDOW)}
    ada, bo = rows["Ada Agent"], rows["Bo Agent"]
    assert (ada.promises.kept, ada.promises.kept_on_time, ada.promises.missed) == (3, 3, 1)
    assert ada.promises.renegotiated == 1
    assert (bo.promises.kept, bo.promises.kept_on_time, bo.promises.missed) == (2, 1, 1)
    assert (ada.sent, ada.sent_score, ada.received, ada.received_score) == (2, 70.0, 4, 90.0)
    assert (bo.sent, bo.received, bo.received_score) == (4, 2, 70.0)
    assert (ada.open_cases, ada.offers_waiting, bo.open_cases) == (8, 1, 2)


def test_agents_take_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    make_agent(world["team"], display_name="Cy New")
    with django_assert_max_num_queries(4):
        team_agents(team=world["team"], window=WINDOW)


def test_agents_sort_by_any_column_with_blanks_last(world):
    make_agent(world["team"], display_name="Cy New")
    agents = team_agents(team=world["team"], window=WINDOW)
    by_missed = selectors.sort_agents(agents, "-missed")
    assert [a.name for a in by_missed][:2] == ["Ada Agent", "Bo Agent"]
    by_score = selectors.sort_agents(agents, "handoffs_sent_score_avg")
    assert by_score[-1].sent_score is None


def test_a_manager_gets_their_team_and_no_other(world):
    choice = selectors.team_for_manager(user=world["manager"], team_id=None)
    assert choice.team == world["team"]
    with pytest.raises(NotFoundError):
        selectors.team_for_manager(user=world["manager"], team_id=world["other"].pk)


def test_an_agent_is_refused(world):
    with pytest.raises(ReportRuleError) as exc:
        selectors.team_for_manager(user=world["ada"], team_id=world["team"].pk)
    assert exc.value.status_code == 403


def test_choosing_a_managers_team_tells_permissions_which_teams_they_manage(
    world, django_assert_num_queries
):
    manager = world["manager"]
    selectors.team_for_manager(user=manager, team_id=None)
    with django_assert_num_queries(0):
        assert managed_team_ids(manager) == {world["team"].pk}
