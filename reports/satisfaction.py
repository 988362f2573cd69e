"""The customers' answers to the question at close, for the managers: by week beside the
kept-promise rate and the hand-offs, and split by how the case was looked after.

One query (``satisfaction_team_answered``) groups a team's answers given in the window by
(week, changed hands or not, how its promises ended); the weekly figures and the comparison
table both add up those groups, so the dashboard, the API and the CSV read the same numbers.
A case's "promise slip" is its worst: a missed promise (slipped without notice) over a
renegotiated one (slipped with notice, the customer told of the new date) over all kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from django.db.models import Case, CharField, Count, DateField, Q, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.utils import dateformat
from django.utils.translation import gettext, gettext_noop

from cases.models import SatisfactionAnswer, Team
from reports import charts
from reports.handoffs import handoff_weeks
from reports.period import Window
from reports.promises import promise_weeks

LOW_SCORE = 2
# Fewer answers than this in a cell: the table says the mean is not to be leaned on.
CAUTION_BELOW = 20

# How a case's promises ended (its worst), in the table's order.
# The labels stay English in the figures (the dashboard's cache keeps them for every reader);
# the page translates them.
SLIPS: list[tuple[str, str]] = [
    ("kept", gettext_noop("Every promise kept")),
    ("renegotiated", gettext_noop("A promise slipped with notice (renegotiated)")),
    ("missed", gettext_noop("A promise slipped without notice (missed)")),
    ("none", gettext_noop("No promise made")),
]
HANDS: list[tuple[bool, str, str]] = [
    (False, "one_owner", gettext_noop("One owner throughout")),
    (True, "changed_hands", gettext_noop("Changed hands")),
]


@dataclass
class Scores:
    answers: int = 0
    total: int = 0
    low: int = 0

    @property
    def mean(self) -> float | None:
        return round(self.total / self.answers, 2) if self.answers else None

    @property
    def low_rate(self) -> float | None:
        return round(self.low / self.answers, 4) if self.answers else None

    @property
    def caution(self) -> bool:
        return self.answers < CAUTION_BELOW

    def add(self, other: Scores) -> None:
        self.answers += other.answers
        self.total += other.total
        self.low += other.low

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "mean": self.mean,
            "low": self.low,
            "low_rate": self.low_rate,
        }


@dataclass
class Group:
    key: str
    label: str
    scores: Scores

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.key,
            "label": self.label,
            **self.scores.as_dict(),
            "caution": self.scores.caution,
        }


@dataclass
class Satisfaction:
    weeks: dict[date, Scores]
    period: Scores
    hands: list[Group]
    slips: list[Group]

    @property
    def groups(self) -> list[Group]:
        return [*self.hands, *self.slips]


def _slip() -> Case:
    return Case(
        When(promises_missed__gt=0, then=Value("missed")),
        When(promises_renegotiated__gt=0, then=Value("renegotiated")),
        When(promises_kept__gt=0, then=Value("kept")),
        default=Value("none"),
        output_field=CharField(),
    )


def satisfaction_weekly(*, team: Team, window: Window) -> Satisfaction:
    """The team's answers given in the window: one query."""
    start, end = window.bounds()
    rows = (
        SatisfactionAnswer.objects.filter(
            team_id=team.pk, score__isnull=False, answered_at__gte=start, answered_at__lt=end
        )
        .annotate(
            week=TruncWeek("answered_at", tzinfo=UTC, output_field=DateField()),
            slip=_slip(),
            changed=Case(When(handoffs__gt=0, then=Value(True)), default=Value(False)),
        )
        .values("week", "slip", "changed")
        .annotate(
            answers=Count("pk"),
            total=Sum("score"),
            low=Count("pk", filter=Q(score__lte=LOW_SCORE)),
        )
        .order_by()
    )
    weeks = {w: Scores() for w in window.week_starts()}
    period = Scores()
    by_hands = {changed: Scores() for changed, _, _ in HANDS}
    by_slip = {key: Scores() for key, _ in SLIPS}
    for row in rows:
        scores = Scores(answers=row["answers"], total=int(row["total"] or 0), low=row["low"])
        weeks.setdefault(row["week"], Scores()).add(scores)
        period.add(scores)
        by_hands[bool(row["changed"])].add(scores)
        by_slip[row["slip"]].add(scores)
    return Satisfaction(
        weeks=weeks,
        period=period,
        hands=[Group(key, label, by_hands[changed]) for changed, key, label in HANDS],
        slips=[Group(key, label, by_slip[key]) for key, label in SLIPS],
    )


@dataclass
class WeekBeside:
    """A week's satisfaction beside its kept-on-time rate and hand-offs offered."""

    week: date
    scores: Scores
    kept_on_time_rate: float | None
    handoffs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            **self.scores.as_dict(),
            "kept_on_time_rate": self.kept_on_time_rate,
            "handoffs_offered": self.handoffs,
        }


def weeks_beside(satisfaction: Satisfaction, promises: dict, handoffs: dict) -> list[WeekBeside]:
    """``promises`` and ``handoffs``: the reports' figures by week (``promise_weeks``,
    ``handoff_weeks``, or the summary's weeks)."""
    rows = []
    for week, scores in sorted(satisfaction.weeks.items()):
        p, h = promises.get(week), handoffs.get(week)
        rows.append(
            WeekBeside(
                week=week,
                scores=scores,
                kept_on_time_rate=p.kept_on_time_rate if p is not None else None,
                handoffs=h.offered if h is not None else 0,
            )
        )
    return rows


def satisfaction_report(*, team: Team, window: Window) -> dict[str, Any]:
    """The report as the API returns it: three queries (answers, promises, hand-offs)."""
    satisfaction = satisfaction_weekly(team=team, window=window)
    promises, _ = promise_weeks(team=team, window=window, by_channel=False)
    beside = weeks_beside(satisfaction, promises, handoff_weeks(team=team, window=window))
    return {
        "team": {"id": team.pk, "name": team.name},
        "from": window.start.isoformat(),
        "to": window.last_day.isoformat(),
        "weeks": [w.as_dict() for w in beside],
        "period": satisfaction.period.as_dict(),
        "groups": [g.as_dict() for g in satisfaction.groups],
    }


@dataclass
class Panel:
    """The dashboard's satisfaction section."""

    satisfaction: Satisfaction
    weeks: list[WeekBeside]
    chart: Any


def satisfaction_panel(*, satisfaction: Satisfaction, summary_weeks: list[Any]) -> Panel:
    """The answers beside the summary's own weeks (``selectors.Week``): no query."""
    beside = weeks_beside(
        satisfaction,
        {w.start: w.promises for w in summary_weeks},
        {w.start: w.handoffs for w in summary_weeks},
    )
    chart = charts.bar_chart(
        chart_id="chart-satisfaction",
        title=gettext("Did the owner take care of it? Mean answer by week (1–5)"),
        groups=[dateformat.format(w.week, "d M") for w in beside],
        series=[(gettext("Mean answer"), [w.scores.mean for w in beside])],
        label=charts.number,
        top=5.0,
    )
    return Panel(satisfaction=satisfaction, weeks=beside, chart=chart)
