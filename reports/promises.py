"""A team's promises in the reports: figures by week and by first-response channel, and
the rows behind a figure. Every query starts from the promise's own ``team`` column
(``commitment_team_ended_cover``), never from the team's cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import translation

from cases.models import Case as CaseRow
from cases.models import (
    Channel,
    Team,
)
from cases.overdue import ended_on_time_q, not_yet_due_q, overdue_q
from cases.permissions import is_team_manager, team_ids_visible
from commitments.models import Commitment, CommitmentKind, CommitmentStatus
from reports.errors import NotFoundError
from reports.period import Window
from reports.sql import rate

OPEN = CommitmentStatus.OPEN


# --- promises ------------------------------------------------------------------------------------


PROMISE_COUNTS = (
    "kept",
    "kept_on_time",
    "renegotiated",
    "renegotiated_before_due",
    "withdrawn",
    "missed",
)


def promise_aggregates() -> dict[str, Any]:
    # COUNT(1), not COUNT(id): ``commitment_team_ended_cover`` holds every column these read, so
    # PostgreSQL answers from the index alone.
    one = Value(1)
    return {
        "kept": Count(one, filter=Q(status=CommitmentStatus.KEPT)),
        "kept_on_time": Count(one, filter=Q(status=CommitmentStatus.KEPT) & ended_on_time_q()),
        "renegotiated": Count(one, filter=Q(status=CommitmentStatus.RENEGOTIATED)),
        "renegotiated_before_due": Count(
            one, filter=Q(status=CommitmentStatus.RENEGOTIATED) & ended_on_time_q()
        ),
        "withdrawn": Count(one, filter=Q(status=CommitmentStatus.WITHDRAWN)),
        "missed": Count(one, filter=Q(status=CommitmentStatus.MISSED)),
    }


@dataclass
class PromiseFigures:
    """Promises that ended, and the three rates over those that came due one way or another
    (kept, renegotiated or missed; a withdrawn promise is neither kept nor broken) — the
    same definitions as the commitments report."""

    kept: int = 0
    kept_on_time: int = 0
    renegotiated: int = 0
    renegotiated_before_due: int = 0
    withdrawn: int = 0
    missed: int = 0

    def add(self, row: dict) -> None:
        for name in PROMISE_COUNTS:
            setattr(self, name, getattr(self, name) + int(row.get(name) or 0))

    @property
    def decided(self) -> int:
        return self.kept + self.renegotiated + self.missed

    @property
    def ended(self) -> int:
        return self.decided + self.withdrawn

    @property
    def kept_on_time_rate(self) -> float | None:
        return rate(self.kept_on_time, self.decided)

    @property
    def proactive_rate(self) -> float | None:
        return rate(self.renegotiated_before_due, self.decided)

    @property
    def missed_rate(self) -> float | None:
        return rate(self.missed, self.decided)

    def as_dict(self) -> dict:
        return {
            **{name: getattr(self, name) for name in PROMISE_COUNTS},
            "decided": self.decided,
            "kept_on_time_rate": self.kept_on_time_rate,
            "proactive_rate": self.proactive_rate,
            "missed_rate": self.missed_rate,
        }


def ended_promises(*, team: Team, window: Window) -> QuerySet[Commitment]:
    start, end = window.bounds()
    return Commitment.objects.filter(
        team_id=team.pk, ended_at__gte=start, ended_at__lt=end
    ).exclude(status=OPEN)


@dataclass
class FirstResponse:
    channel: str
    label: str
    target: timedelta
    figures: PromiseFigures

    @property
    def attainment(self) -> float | None:
        return self.figures.kept_on_time_rate


def promise_weeks(
    *, team: Team, window: Window, by_channel: bool = True
) -> tuple[dict[date, PromiseFigures], list[FirstResponse]]:
    """Promises by week, and first-response promises by channel; one query grouped by
    (week, channel, first response or not). Only a first-response promise looks up its
    case's channel (by primary key): joining every promise to its case made PostgreSQL read
    all the cases (a sequential scan of the table) for a team's few thousand promises.
    Without ``by_channel`` (the dashboard, which measures first response from the contacts)
    the lookup is skipped and the channel list is empty: a third of the query's time."""
    first_response = Q(kind=CommitmentKind.FIRST_RESPONSE)
    case_channel = CaseRow.objects.filter(pk=OuterRef("case_id")).values("channel")[:1]
    channel: Any = Value("", output_field=CharField())
    if by_channel:
        channel = Case(
            When(first_response, then=Subquery(case_channel)),
            default=Value(""),
            output_field=CharField(),
        )
    rows = (
        ended_promises(team=team, window=window)
        .annotate(
            week=TruncWeek("ended_at", tzinfo=UTC, output_field=DateField()),
            first=ExpressionWrapper(first_response, output_field=BooleanField()),
            channel=channel,
        )
        .values("week", "channel", "first")
        .annotate(**promise_aggregates())
        .order_by()
    )
    weeks = {w: PromiseFigures() for w in window.week_starts()}
    channels: dict[str, PromiseFigures] = {}
    for row in rows:
        weeks.setdefault(row["week"], PromiseFigures()).add(row)
        if row["first"] and by_channel:
            channels.setdefault(row["channel"], PromiseFigures()).add(row)
    # in English whatever the reader's language: the dashboard's cache keeps these figures for
    # every reader, and the pages translate the label
    with translation.override(None):
        labels = {code: str(label) for code, label in Channel.choices}
    first = [
        FirstResponse(
            channel=channel,
            label=labels.get(channel, channel),
            target=team.first_response_target(channel),
            figures=figures,
        )
        for channel, figures in sorted(channels.items())
    ]
    return weeks, first


# --- the commitments report: every team the reader sees, per team and per agent -----------------


REPORT_COLUMNS = (
    "ended",
    *PROMISE_COUNTS,
    "kept_on_time_rate",
    "proactive_rate",
    "missed_rate",
)


def _report_figures(row: dict) -> dict[str, Any]:
    figures = PromiseFigures()
    figures.add(row)
    return {
        "ended": figures.ended,
        **{name: getattr(figures, name) for name in PROMISE_COUNTS},
        "kept_on_time_rate": figures.kept_on_time_rate,
        "proactive_rate": figures.proactive_rate,
        "missed_rate": figures.missed_rate,
    }


def commitment_report(*, user: Any, window: Window, team_id: int | None = None) -> dict:
    """Kept-on-time, renegotiated-before-due (proactive) and missed figures per team and per
    agent, over promises that ended in the window: the dashboard's figures
    (``PromiseFigures``) over every team the reader sees; aggregated in SQL (three queries).

    A promise counts for the owner at the moment it ended. Managers see their teams; agents see
    their teams' totals and only their own row.
    """
    start, end = window.bounds()
    if getattr(user, "is_superuser", False):
        team_ids = set(Team.objects.values_list("pk", flat=True))
    else:
        team_ids = set(team_ids_visible(user))
    if team_id is not None:
        if team_id not in team_ids:
            raise NotFoundError("No such team.")
        team_ids = {team_id}
    ended = Commitment.objects.filter(
        ended_at__gte=start, ended_at__lt=end, team_id__in=team_ids
    ).exclude(status=OPEN)
    aggregates = promise_aggregates()
    team_rows = ended.values("team_id", "team__name").annotate(**aggregates).order_by("team__name")
    agent_rows = (
        ended.values("team_id", "owner_id", "owner__agent_profile__display_name")
        .annotate(**aggregates)
        .order_by("team_id", "owner__agent_profile__display_name", "owner_id")
    )
    managed = {tid for tid in team_ids if is_team_manager(user, tid)}
    teams = [
        {"team_id": r["team_id"], "team": r["team__name"], **_report_figures(r)} for r in team_rows
    ]
    agents = [
        {
            "team_id": r["team_id"],
            "agent_id": r["owner_id"],
            "agent_name": r["owner__agent_profile__display_name"] or "",
            **_report_figures(r),
        }
        for r in agent_rows
        if r["team_id"] in managed or r["owner_id"] == user.pk
    ]
    return {
        "from": window.start.isoformat(),
        "to": window.last_day.isoformat(),
        "teams": teams,
        "agents": agents,
    }


# --- the rows behind a figure --------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseRowFilters:
    """Every one optional. ``date_from``/``date_to`` are UTC days (inclusive) of the end;
    ``on_time`` keeps promises that ended by their due time; ``open`` lists open
    promises (``due_after``/``due_before`` bound their due time; ``overdue_at`` keeps those
    overdue at that moment, ``not_overdue_at`` those that are not) instead of ended ones."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    on_time: bool = False
    first_response: bool = False
    channel: str | None = None
    owner_id: int | None = None
    open: bool = False
    due_after: datetime | None = None
    due_before: datetime | None = None
    overdue_at: datetime | None = None
    not_overdue_at: datetime | None = None


def promise_rows(*, team: Team, filters: PromiseRowFilters) -> QuerySet[Commitment]:
    """The team's promises a figure counts, newest end first (open ones: soonest due first);
    one query per page."""
    qs = Commitment.objects.filter(team_id=team.pk).select_related(
        "case", "case__customer", "owner__agent_profile", "ended_by__agent_profile"
    )
    if filters.open:
        qs = qs.filter(status=OPEN)
        if filters.due_after is not None:
            qs = qs.filter(due_at__gte=filters.due_after)
        if filters.due_before is not None:
            qs = qs.filter(due_at__lt=filters.due_before)
        if filters.overdue_at is not None:
            qs = qs.filter(overdue_q(filters.overdue_at))
        if filters.not_overdue_at is not None:
            qs = qs.filter(not_yet_due_q(filters.not_overdue_at))
        qs = qs.order_by("due_at", "pk")
    else:
        qs = qs.exclude(status=OPEN)
        if filters.date_from is not None:
            qs = qs.filter(ended_at__gte=datetime.combine(filters.date_from, time.min, UTC))
        if filters.date_to is not None:
            day_after = filters.date_to + timedelta(days=1)
            qs = qs.filter(ended_at__lt=datetime.combine(day_after, time.min, UTC))
        if filters.status:
            qs = qs.filter(status=filters.status)
        if filters.on_time:
            qs = qs.filter(ended_on_time_q())
        qs = qs.order_by("-ended_at", "-pk")
    if filters.first_response:
        qs = qs.filter(kind=CommitmentKind.FIRST_RESPONSE)
    if filters.channel:
        qs = qs.filter(case__channel=filters.channel)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    return qs
