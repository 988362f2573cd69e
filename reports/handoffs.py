"""A team's hand-offs in the reports, by week: one query on the hand-off's own ``team``
column (``handoff_team_offered``), reviews through correlated subqueries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from django.db.models import (
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncWeek

from cases.models import (
    Handoff,
    HandoffReview,
    HandoffStatus,
    Team,
)
from reports.period import Window
from reports.sql import ListOf, SecondsBetween, floats_of, percentile_cont

ACCEPTED = HandoffStatus.ACCEPTED


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


def handoff_weeks(*, team: Team, window: Window) -> dict[date, HandoffFigures]:
    """Hand-offs offered in each week, one query; reviews through correlated subqueries so
    the ``GROUP BY`` stays on the hand-offs' own rows."""
    start, end = window.bounds()
    rows = (
        Handoff.objects.filter(team_id=team.pk, offered_at__gte=start, offered_at__lt=end)
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
            seconds=ListOf(
                SecondsBetween("decided_at", "offered_at"),
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
            accept_seconds=floats_of(row["seconds"]),
        )
    return weeks
