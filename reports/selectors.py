"""The figures managers read: a team's promises, hand-offs and first replies by week, its
agents side by side, and what needs attention today.

Weeks are ISO weeks starting Monday 00:00 UTC: the list pages filter on UTC days, so every
figure's link opens exactly the rows behind it. Every figure is aggregated in SQL
(``GROUP BY`` the week of an indexed date: ``Commitment.ended_at``, ``Handoff.offered_at``)
in a fixed number of queries whatever the history.

Times to accept are percentiles with ``percentile_cont`` semantics (linear interpolation
between the two nearest values). The same ``GROUP BY`` query returns each week's list of
seconds (``ARRAY_AGG`` on PostgreSQL, ``GROUP_CONCAT`` on SQLite) and Python interpolates;
the list is bounded by one team's accepted hand-offs in at most ``MAX_WEEKS`` weeks, and the
period's percentiles come from the union of the weekly lists without another query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
)
from django.db.models.functions import Coalesce, TruncWeek

from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Channel,
    Handoff,
    HandoffReview,
    HandoffStatus,
    Team,
)
from cases.models import Case as CaseRow
from commitments.calendars import add_business_time
from commitments.models import BusinessCalendar, Commitment, CommitmentKind, CommitmentStatus
from reports.errors import NotFoundError, ReportRuleError

MAX_WEEKS = 26
DEFAULT_WEEKS = 8
OPEN = CommitmentStatus.OPEN
ACCEPTED = HandoffStatus.ACCEPTED


# --- the period and the team --------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """``weeks`` whole ISO weeks from ``start`` (a Monday), UTC."""

    start: date
    weeks: int = DEFAULT_WEEKS

    @classmethod
    def ending(cls, day: date, weeks: int = DEFAULT_WEEKS) -> Window:
        """The ``weeks`` weeks whose last one holds ``day``."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise ReportRuleError(
                "invalid_period",
                f"Choose from 1 to {MAX_WEEKS} weeks.",
                fields={"weeks": [f"From 1 to {MAX_WEEKS}."]},
            )
        monday = day - timedelta(days=day.weekday())
        return cls(start=monday - timedelta(weeks=weeks - 1), weeks=weeks)

    @property
    def end(self) -> date:
        """The day after the last one."""
        return self.start + timedelta(weeks=self.weeks)

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
        # The same set ``cases.permissions.managed_team_ids`` caches on the user: the
        # navigation asks for it again on this request.
        user._caseowner_managed_ids = {t.pk for t in teams}
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


# --- SQL pieces ----------------------------------------------------------------------------------


class _SecondsBetween(Func):
    """Seconds from ``offered_at`` to ``decided_at`` (a float)."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def __init__(self, later: str, earlier: str) -> None:
        super().__init__(F(later), F(earlier), output_field=TextField())

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class _ListOf(Aggregate):
    """Each group's values as one list: ``ARRAY_AGG`` (PostgreSQL), ``GROUP_CONCAT`` (SQLite);
    read it with ``_floats``."""

    function = "ARRAY_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def _floats(value: Any) -> list[float]:
    if value is None:
        return []
    if isinstance(value, str):
        return [round(float(v), 3) for v in value.split(",") if v]
    return [round(float(v), 3) for v in value if v is not None]


def _count(qs: QuerySet) -> Coalesce:
    """``COUNT(*)`` of ``qs`` as a scalar subquery."""
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont``: interpolate between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- promises ------------------------------------------------------------------------------------


PROMISE_COUNTS = (
    "kept",
    "kept_on_time",
    "renegotiated",
    "renegotiated_before_due",
    "withdrawn",
    "missed",
)


def _promise_aggregates() -> dict[str, Any]:
    return {
        "kept": Count("pk", filter=Q(status=CommitmentStatus.KEPT)),
        "kept_on_time": Count(
            "pk", filter=Q(status=CommitmentStatus.KEPT, ended_at__lte=F("due_at"))
        ),
        "renegotiated": Count("pk", filter=Q(status=CommitmentStatus.RENEGOTIATED)),
        "renegotiated_before_due": Count(
            "pk", filter=Q(status=CommitmentStatus.RENEGOTIATED, ended_at__lte=F("due_at"))
        ),
        "withdrawn": Count("pk", filter=Q(status=CommitmentStatus.WITHDRAWN)),
        "missed": Count("pk", filter=Q(status=CommitmentStatus.MISSED)),
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
        return _rate(self.kept_on_time, self.decided)

    @property
    def proactive_rate(self) -> float | None:
        return _rate(self.renegotiated_before_due, self.decided)

    @property
    def missed_rate(self) -> float | None:
        return _rate(self.missed, self.decided)

    def as_dict(self) -> dict:
        return {
            **{name: getattr(self, name) for name in PROMISE_COUNTS},
            "decided": self.decided,
            "kept_on_time_rate": self.kept_on_time_rate,
            "proactive_rate": self.proactive_rate,
            "missed_rate": self.missed_rate,
        }


def _ended_promises(*, team: Team, window: Window) -> QuerySet[Commitment]:
    start, end = window.bounds()
    return Commitment.objects.filter(
        case__team_id=team.pk, ended_at__gte=start, ended_at__lt=end
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


def _promise_weeks(
    *, team: Team, window: Window
) -> tuple[dict[date, PromiseFigures], list[FirstResponse]]:
    """Promises by week, and first-response promises by channel; one query grouped by
    (week, channel, first response or not)."""
    rows = (
        _ended_promises(team=team, window=window)
        .annotate(
            week=TruncWeek("ended_at", tzinfo=UTC, output_field=DateField()),
            first=ExpressionWrapper(
                Q(kind=CommitmentKind.FIRST_RESPONSE), output_field=BooleanField()
            ),
        )
        .values("week", "case__channel", "first")
        .annotate(**_promise_aggregates())
        .order_by()
    )
    weeks = {w: PromiseFigures() for w in window.week_starts()}
    channels: dict[str, PromiseFigures] = {}
    for row in rows:
        weeks.setdefault(row["week"], PromiseFigures()).add(row)
        if row["first"]:
            channels.setdefault(row["case__channel"], PromiseFigures()).add(row)
    labels = dict(Channel.choices)
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


# --- hand-offs -----------------------------------------------------------------------------------


@dataclass
class HandoffFigures:
    offered: int = 0
    cases: int = 0
    accepted: int = 0
    declined: int = 0
    waiting: int = 0
    flagged: int = 0
    scored: int = 0
    score_total: float = 0.0
    reviews: int = 0
    review_points: int = 0  # the four rubric scores of every review, summed
    accept_seconds: list[float] = field(default_factory=list)

    @property
    def per_case(self) -> float | None:
        return round(self.offered / self.cases, 2) if self.cases else None

    @property
    def score_avg(self) -> float | None:
        return round(self.score_total / self.scored, 1) if self.scored else None

    @property
    def review_avg(self) -> float | None:
        """The reviews' average rubric score (1–5)."""
        return round(self.review_points / (4 * self.reviews), 2) if self.reviews else None

    @property
    def accept_median(self) -> float | None:
        return percentile_cont(self.accept_seconds, 0.5)

    @property
    def accept_p90(self) -> float | None:
        return percentile_cont(self.accept_seconds, 0.9)

    def add(self, other: HandoffFigures) -> None:
        for name in ("offered", "cases", "accepted", "declined", "waiting", "flagged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("scored", "score_total", "reviews", "review_points"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.accept_seconds.extend(other.accept_seconds)

    def as_dict(self) -> dict:
        return {
            "offered": self.offered,
            "cases": self.cases,
            "per_case": self.per_case,
            "accepted": self.accepted,
            "declined": self.declined,
            "waiting": self.waiting,
            "flagged": self.flagged,
            "score_avg": self.score_avg,
            "reviews": self.reviews,
            "review_avg": self.review_avg,
            "accept_median_seconds": self.accept_median,
            "accept_p90_seconds": self.accept_p90,
        }


def _review_stat(expression: Any) -> Coalesce:
    stat = (
        HandoffReview.objects.filter(handoff=OuterRef("pk"))
        .order_by()
        .values("handoff")
        .annotate(value=expression)
        .values("value")
    )
    return Coalesce(Subquery(stat, output_field=IntegerField()), 0)


def _handoff_weeks(*, team: Team, window: Window) -> dict[date, HandoffFigures]:
    """Hand-offs offered in each week, one query; reviews through correlated subqueries so
    the ``GROUP BY`` stays on the hand-offs' own rows."""
    start, end = window.bounds()
    rows = (
        Handoff.objects.filter(case__team_id=team.pk, offered_at__gte=start, offered_at__lt=end)
        .annotate(
            week=TruncWeek("offered_at", tzinfo=UTC, output_field=DateField()),
            n_reviews=_review_stat(Count("pk")),
            n_points=_review_stat(
                Sum(
                    F("context_complete")
                    + F("next_step_clear")
                    + F("commitments_carried")
                    + F("customer_informed")
                )
            ),
        )
        .values("week")
        .annotate(
            offered=Count("pk"),
            cases=Count("case_id", distinct=True),
            accepted=Count("pk", filter=Q(status=ACCEPTED)),
            declined=Count("pk", filter=Q(status=HandoffStatus.DECLINED)),
            waiting=Count("pk", filter=Q(status=HandoffStatus.OFFERED)),
            flagged=Count("pk", filter=~Q(flags=[])),
            scored=Count("quality_score"),
            score_total=Sum("quality_score"),
            review_count=Sum("n_reviews"),
            review_points=Sum("n_points"),
            seconds=_ListOf(
                _SecondsBetween("decided_at", "offered_at"),
                filter=Q(status=ACCEPTED, decided_at__isnull=False),
            ),
        )
        .order_by()
    )
    weeks = {w: HandoffFigures() for w in window.week_starts()}
    for row in rows:
        weeks[row["week"]] = HandoffFigures(
            offered=row["offered"],
            cases=row["cases"],
            accepted=row["accepted"],
            declined=row["declined"],
            waiting=row["waiting"],
            flagged=row["flagged"],
            scored=row["scored"],
            score_total=float(row["score_total"] or 0),
            reviews=int(row["review_count"] or 0),
            review_points=int(row["review_points"] or 0),
            accept_seconds=_floats(row["seconds"]),
        )
    return weeks


# --- today ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Today:
    now: datetime
    horizon: datetime  # one business day from now on the team's calendar
    open_cases: int
    without_promise: int
    overdue: int
    due_soon: int  # open promises due from now to the horizon
    offers_waiting: int


def _calendar_row(team: Team) -> BusinessCalendar:
    try:
        return team.calendar
    except BusinessCalendar.DoesNotExist:
        return BusinessCalendar(team=team)


def team_today(*, team: Team, now: datetime) -> Today:
    """What needs attention now; one query of scalar subqueries (the calendar's closed
    days may take one more)."""
    calendar = _calendar_row(team).as_calendar()
    horizon = add_business_time(calendar, now, calendar.standard_day or timedelta(days=1))
    open_cases = CaseRow.objects.filter(team=OuterRef("pk"), status__in=OPEN_STATUSES)
    # Only cases whose earliest open promise is before the horizon can hold one: found on
    # ``case_team_due`` instead of joining every case of the team.
    due_cases = CaseRow.objects.filter(
        team_id=team.pk, next_due_at__isnull=False, next_due_at__lt=horizon
    )
    promises = Commitment.objects.filter(case__in=due_cases.values("pk"), status=OPEN)
    row = (
        Team.objects.filter(pk=team.pk)
        .annotate(
            n_open=_count(open_cases),
            n_without=_count(open_cases.filter(next_due_at__isnull=True)),
            n_overdue=_count(promises.filter(due_at__lt=now)),
            n_soon=_count(promises.filter(due_at__gte=now, due_at__lt=horizon)),
            n_offers=_count(
                Handoff.objects.filter(case__team=OuterRef("pk"), status=HandoffStatus.OFFERED)
            ),
        )
        .values("n_open", "n_without", "n_overdue", "n_soon", "n_offers")
        .get()
    )
    return Today(
        now=now,
        horizon=horizon,
        open_cases=row["n_open"],
        without_promise=row["n_without"],
        overdue=row["n_overdue"],
        due_soon=row["n_soon"],
        offers_waiting=row["n_offers"],
    )


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


def team_summary(*, team: Team, window: Window, now: datetime) -> TeamSummary:
    """The dashboard's figures: three queries (plus the calendar's closed days)."""
    promise_weeks, first_response = _promise_weeks(team=team, window=window)
    handoff_weeks = _handoff_weeks(team=team, window=window)
    promises, handoffs = PromiseFigures(), HandoffFigures()
    weeks = []
    for start in window.week_starts():
        p = promise_weeks.get(start, PromiseFigures())
        h = handoff_weeks.get(start, HandoffFigures())
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
        today=team_today(team=team, now=now),
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


# --- agents --------------------------------------------------------------------------------------


@dataclass
class AgentFigures:
    agent_id: int
    name: str
    open_cases: int = 0
    offers_waiting: int = 0
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    sent: int = 0
    sent_score: float | None = None
    received: int = 0
    received_score: float | None = None

    def as_dict(self) -> dict:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "open_cases": self.open_cases,
            **self.promises.as_dict(),
            "handoffs_sent": self.sent,
            "handoffs_sent_score_avg": self.sent_score,
            "handoffs_received": self.received,
            "handoffs_received_score_avg": self.received_score,
            "offers_waiting": self.offers_waiting,
        }


AGENT_COLUMNS = (
    "agent_id",
    "name",
    "open_cases",
    *PROMISE_COUNTS,
    "decided",
    "kept_on_time_rate",
    "proactive_rate",
    "missed_rate",
    "handoffs_sent",
    "handoffs_sent_score_avg",
    "handoffs_received",
    "handoffs_received_score_avg",
    "offers_waiting",
)


def _score(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def team_agents(*, team: Team, window: Window) -> list[AgentFigures]:
    """Each agent of the team (and anyone else credited in the period) side by side, by
    name; four queries. A promise counts for its owner when it ended; hand-offs for the
    sender and the receiver; open cases (the agent's whole queue) and offers waiting for
    them in this team are as of now."""
    start, end = window.bounds()
    members = (
        AgentProfile.objects.filter(teams=team)
        .annotate(
            # the agent's whole queue (any team): the partial index ``case_queue_open``
            n_open=_count(
                CaseRow.objects.filter(owner=OuterRef("user_id"), status__in=OPEN_STATUSES)
            ),
            n_waiting=_count(
                Handoff.objects.filter(
                    to_agent=OuterRef("user_id"), case__team=team, status=HandoffStatus.OFFERED
                )
            ),
        )
        .values("user_id", "display_name", "n_open", "n_waiting")
    )
    agents: dict[int, AgentFigures] = {}
    for m in members:
        agents[m["user_id"]] = AgentFigures(
            agent_id=m["user_id"],
            name=m["display_name"],
            open_cases=m["n_open"],
            offers_waiting=m["n_waiting"],
        )

    def agent(pk: int, name: str | None) -> AgentFigures:
        return agents.setdefault(pk, AgentFigures(agent_id=pk, name=name or f"#{pk}"))

    promise_rows = (
        _ended_promises(team=team, window=window)
        .values("owner_id", "owner__agent_profile__display_name")
        .annotate(**_promise_aggregates())
        .order_by()
    )
    for row in promise_rows:
        agent(row["owner_id"], row["owner__agent_profile__display_name"]).promises.add(row)
    handoffs = Handoff.objects.filter(
        case__team_id=team.pk, offered_at__gte=start, offered_at__lt=end
    )
    for side in ("from_agent", "to_agent"):
        rows = (
            handoffs.values(f"{side}_id", f"{side}__agent_profile__display_name")
            .annotate(n=Count("pk"), score=Avg("quality_score"))
            .order_by()
        )
        for row in rows:
            a = agent(row[f"{side}_id"], row[f"{side}__agent_profile__display_name"])
            if side == "from_agent":
                a.sent, a.sent_score = row["n"], _score(row["score"])
            else:
                a.received, a.received_score = row["n"], _score(row["score"])
    return sorted(agents.values(), key=lambda a: (a.name.lower(), a.agent_id))


def sort_agents(agents: Iterable[AgentFigures], key: str) -> list[AgentFigures]:
    """Sort by one of ``AGENT_COLUMNS`` (``-`` first for descending); blanks last."""
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name not in AGENT_COLUMNS:
        name, descending = "name", False
    rows = [(a, a.as_dict()[name]) for a in agents]
    present = [r for r in rows if r[1] is not None]
    blank = [r[0] for r in rows if r[1] is None]

    def order(item: tuple[AgentFigures, Any]) -> Any:
        value = item[1]
        return value.lower() if isinstance(value, str) else value

    present.sort(key=order, reverse=descending)
    return [a for a, _ in present] + blank


# --- the rows behind a figure --------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseRowFilters:
    """Every one optional. ``date_from``/``date_to`` are UTC days (inclusive) of the end;
    ``on_time`` keeps promises that ended by their due time; ``open`` lists open promises
    (``due_after``/``due_before`` bound their due time) instead of ended ones."""

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


def promise_rows(*, team: Team, filters: PromiseRowFilters) -> QuerySet[Commitment]:
    """The team's promises a figure counts, newest end first (open ones: soonest due first);
    one query per page."""
    qs = Commitment.objects.filter(case__team_id=team.pk).select_related(
        "case", "case__customer", "owner__agent_profile"
    )
    if filters.open:
        qs = qs.filter(status=OPEN)
        if filters.due_after is not None:
            qs = qs.filter(due_at__gte=filters.due_after)
        if filters.due_before is not None:
            qs = qs.filter(due_at__lt=filters.due_before)
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
            qs = qs.filter(ended_at__lte=F("due_at"))
        qs = qs.order_by("-ended_at", "-pk")
    if filters.first_response:
        qs = qs.filter(kind=CommitmentKind.FIRST_RESPONSE)
    if filters.channel:
        qs = qs.filter(case__channel=filters.channel)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    return qs


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
