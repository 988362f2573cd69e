"""The figures managers read: a team's promises, hand-offs and first replies by week, its
agents side by side, and what needs attention today.

Every figure is aggregated in SQL (``GROUP BY`` the week of an indexed date:
``Commitment.ended_at``, ``Handoff.offered_at``) in a fixed number of queries whatever the
history, from the promise's and the hand-off's own ``team`` column. The families live in
``reports.period``, ``reports.sql``, ``reports.promises``, ``reports.handoffs`` and
``reports.agents``; this module holds today's figures and the summary, and names every
selector the views and the API call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import (
    OuterRef,
    QuerySet,
)

from cases.models import (
    OPEN_STATUSES,
    Handoff,
    HandoffStatus,
    Team,
)
from cases.models import Case as CaseRow
from cases.overdue import not_yet_due_q, overdue_q
from commitments.calendar_services import business_calendar_of
from commitments.calendars import add_business_time
from commitments.models import Commitment, CommitmentStatus
from reports.agents import AGENT_COLUMNS, AgentFigures, sort_agents, team_agents
from reports.handoffs import HandoffFigures, handoff_weeks
from reports.period import DEFAULT_WEEKS, MAX_WEEKS, TeamChoice, Window, team_for_manager
from reports.promises import (
    PROMISE_COUNTS,
    FirstResponse,
    PromiseFigures,
    PromiseRowFilters,
    promise_rows,
    promise_weeks,
)
from reports.sql import count_of, percentile_cont

__all__ = [
    "AGENT_COLUMNS",
    "DEFAULT_WEEKS",
    "MAX_WEEKS",
    "PROMISE_COUNTS",
    "AgentFigures",
    "FirstResponse",
    "HandoffFigures",
    "PromiseFigures",
    "PromiseRowFilters",
    "TeamChoice",
    "TeamSummary",
    "Today",
    "Week",
    "Window",
    "open_case_rows",
    "percentile_cont",
    "promise_rows",
    "sort_agents",
    "team_agents",
    "team_for_manager",
    "team_summary",
    "team_summary_as_dict",
    "team_today",
]

OPEN = CommitmentStatus.OPEN


# --- today ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Today:
    now: datetime
    horizon: datetime  # one business day from now on the team's calendar
    open_cases: int
    without_promise: int
    overdue: int
    due_soon: int  # open promises not yet overdue, due before the horizon
    offers_waiting: int


TODAY_FIELDS = ("n_open", "n_without", "n_overdue", "n_soon", "n_offers")


def today_query(*, team: Team, now: datetime) -> tuple[QuerySet[Team], datetime]:
    """The team's row with what needs attention now (``TODAY_FIELDS``) as scalar subqueries,
    and the horizon of "due soon" (the calendar's closed days may take one query)."""
    calendar = business_calendar_of(team).as_calendar()
    horizon = add_business_time(calendar, now, calendar.standard_day or timedelta(days=1))
    open_cases = CaseRow.objects.filter(team=OuterRef("pk"), status__in=OPEN_STATUSES)
    # The team's open promises in due order (``commitment_team_open``): no case joined.
    promises = Commitment.objects.filter(team_id=team.pk, status=OPEN)
    rows = Team.objects.filter(pk=team.pk).annotate(
        n_open=count_of(open_cases),
        n_without=count_of(open_cases.filter(next_due_at__isnull=True)),
        n_overdue=count_of(promises.filter(overdue_q(now))),
        n_soon=count_of(promises.filter(not_yet_due_q(now), due_at__lt=horizon)),
        n_offers=count_of(
            Handoff.objects.filter(team=OuterRef("pk"), status=HandoffStatus.OFFERED)
        ),
    )
    return rows, horizon


def today_from(row: Mapping[str, Any], *, now: datetime, horizon: datetime) -> Today:
    return Today(
        now=now,
        horizon=horizon,
        open_cases=row["n_open"],
        without_promise=row["n_without"],
        overdue=row["n_overdue"],
        due_soon=row["n_soon"],
        offers_waiting=row["n_offers"],
    )


def team_today(*, team: Team, now: datetime) -> Today:
    """What needs attention now; one query of scalar subqueries (the calendar's closed
    days may take one more)."""
    rows, horizon = today_query(team=team, now=now)
    return today_from(rows.values(*TODAY_FIELDS).get(), now=now, horizon=horizon)


# --- the summary ---------------------------------------------------------------------------------


@dataclass
class Week:
    start: date
    promises: PromiseFigures
    handoffs: HandoffFigures


@dataclass
class TeamSummary:
    team: Team
    window: Window
    weeks: list[Week]
    promises: PromiseFigures
    handoffs: HandoffFigures
    first_response: list[FirstResponse]
    today: Today


def team_summary(
    *,
    team: Team,
    window: Window,
    now: datetime,
    first_response_promises: bool = True,
    today: Today | None = None,
) -> TeamSummary:
    """The dashboard's figures: three queries (plus the calendar's closed days). Without
    ``first_response_promises`` the first-response promises are not split by channel
    (``first_response`` is empty): the dashboard measures first response from the contacts."""
    by_week, first_response = promise_weeks(
        team=team, window=window, by_channel=first_response_promises
    )
    handoffs_by_week = handoff_weeks(team=team, window=window)
    promises, handoffs = PromiseFigures(), HandoffFigures()
    weeks = []
    for start in window.week_starts():
        p = by_week.get(start, PromiseFigures())
        h = handoffs_by_week.get(start, HandoffFigures())
        promises.add(p.as_dict())
        handoffs.add(h)
        weeks.append(Week(start=start, promises=p, handoffs=h))
    # a case handed over in two weeks counts once per week, so the period's cases are at most
    # the weekly sum; per-case figures are shown by week only.
    return TeamSummary(
        team=team,
        window=window,
        weeks=weeks,
        promises=promises,
        handoffs=handoffs,
        first_response=first_response,
        today=today or team_today(team=team, now=now),
    )


def team_summary_as_dict(summary: TeamSummary) -> dict:
    """The summary as the API returns it (JSON-ready)."""
    today = summary.today
    handoffs = summary.handoffs.as_dict()
    handoffs.pop("cases")
    handoffs.pop("per_case")
    return {
        "team": {"id": summary.team.pk, "name": summary.team.name},
        "from": summary.window.start.isoformat(),
        "to": summary.window.last_day.isoformat(),
        "weeks": [
            {
                "week": w.start.isoformat(),
                "promises": w.promises.as_dict(),
                "handoffs": w.handoffs.as_dict(),
            }
            for w in summary.weeks
        ],
        "promises": summary.promises.as_dict(),
        "handoffs": handoffs,
        "first_response": [
            {
                "channel": fr.channel,
                "target_seconds": int(fr.target.total_seconds()),
                "attainment": fr.attainment,
                **fr.figures.as_dict(),
            }
            for fr in summary.first_response
        ],
        "today": {
            "at": today.now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "horizon": today.horizon.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "open_cases": today.open_cases,
            "without_promise": today.without_promise,
            "overdue": today.overdue,
            "due_next_business_day": today.due_soon,
            "offers_waiting": today.offers_waiting,
        },
    }


def open_case_rows(
    *, team: Team, owner_id: int | None = None, without_promise: bool = False
) -> QuerySet[CaseRow]:
    """The team's open cases, oldest first; one query per page."""
    qs = CaseRow.objects.filter(team=team, status__in=OPEN_STATUSES).select_related(
        "customer", "owner__agent_profile"
    )
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if without_promise:
        qs = qs.filter(next_due_at__isnull=True)
    return qs.order_by("created_at", "pk")
