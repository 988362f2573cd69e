"""The period a report covers and the team it is about.

Every report covers whole UTC days (``Window``): the dashboard and the team reports whole ISO
weeks starting Monday 00:00 UTC (``Window.ending``), the commitments report any run of days
(``Window.between``). The list pages filter on UTC days, so every figure's link opens exactly
the rows behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from caseowner.parsing import check_date
from cases.models import (
    Team,
)
from cases.permissions import remember_managed_team_ids
from reports.errors import NotFoundError, ReportRuleError

MAX_WEEKS = 26
DEFAULT_WEEKS = 8
MAX_DAYS = 366
DEFAULT_DAYS = 30


# --- the period and the team --------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """``days`` whole UTC days from ``start``; whole ISO weeks when ``start`` is a Monday and
    ``days`` a multiple of seven."""

    start: date
    days: int = DEFAULT_WEEKS * 7

    @classmethod
    def ending(cls, day: date, weeks: int = DEFAULT_WEEKS) -> Window:
        """The ``weeks`` weeks whose last one holds ``day`` (a day of ``caseowner.parsing``'s
        years: around the calendar's ends the weeks would not fit in a ``date``)."""
        check_date(day, field="to")
        if not 1 <= weeks <= MAX_WEEKS:
            raise ReportRuleError(
                "invalid_period",
                f"Choose from 1 to {MAX_WEEKS} weeks.",
                fields={"weeks": [f"From 1 to {MAX_WEEKS}."]},
            )
        monday = day - timedelta(days=day.weekday())
        return cls(start=monday - timedelta(weeks=weeks - 1), days=7 * weeks)

    @classmethod
    def between(cls, *, start: date | None, end: date | None, today: date) -> Window:
        """The days a caller asked for: up to ``end`` (default today), from ``start`` (default
        ``DEFAULT_DAYS`` before), forwards and at most ``MAX_DAYS``; days whose bounds fall
        outside the calendar (year 1, year 9999) are refused the same way, never a 500."""
        refused = ReportRuleError(
            "invalid_period",
            f"The period must run forwards, cover at most {MAX_DAYS} days and lie "
            "between the years 1 and 9999.",
            fields={"from": ["Check the dates."], "to": ["Check the dates."]},
        )
        end = end or today
        try:
            start = start or end - timedelta(days=DEFAULT_DAYS - 1)
            window = cls(start=start, days=(end - start).days + 1)
            for bound in window.bounds():
                bound.astimezone(UTC)
        except OverflowError:
            raise refused from None
        if start > end or window.days > MAX_DAYS:
            raise refused
        return window

    @property
    def weeks(self) -> int:
        """Whole weeks covered (the weekly reports' windows are nothing else)."""
        return self.days // 7

    @property
    def end(self) -> date:
        """The day after the last one."""
        return self.start + timedelta(days=self.days)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min, tzinfo=UTC),
            datetime.combine(self.end, time.min, tzinfo=UTC),
        )

    def week_starts(self) -> list[date]:
        return [self.start + timedelta(weeks=i) for i in range(self.weeks)]


def day_bounds(*, start: date | None, end: date | None, today: date) -> tuple[datetime, datetime]:
    """The instants of the days a caller asked for, by ``Window.between`` (the hand-off
    audit's period, on its page and in the API)."""
    return Window.between(start=start, end=end, today=today).bounds()


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    teams: list[tuple[int, str]]  # every team the reader may choose, by name


def team_for_manager(*, user: Any, team_id: int | None) -> TeamChoice:
    """The team a manager asked for (default: their first by name) with its calendar, and
    the teams they may choose; one query. Not a manager of any team: ``manager_only`` (403);
    a team they do not manage: not found (404), like a team that does not exist."""
    qs = Team.objects.select_related("calendar").order_by("name", "pk")
    superuser = getattr(user, "is_superuser", False)
    if not superuser:
        qs = qs.filter(managers=user)
    teams = list(qs)
    if not superuser:
        # Every team the user manages: the navigation asks for them again on this request.
        remember_managed_team_ids(user, {t.pk for t in teams})
    if not teams and not superuser:
        raise ReportRuleError("manager_only", "Only a team's managers see its reports.", status=403)
    choices = [(t.pk, t.name) for t in teams]
    if team_id is None:
        if not teams:
            raise NotFoundError("No teams yet.")
        return TeamChoice(team=teams[0], teams=choices)
    for team in teams:
        if team.pk == team_id:
            return TeamChoice(team=team, teams=choices)
    raise NotFoundError("No such team.")
