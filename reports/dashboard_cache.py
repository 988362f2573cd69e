"""The team dashboard's weekly figures, kept in the cache per team, period and last change.

Working out eight weeks of promises, hand-offs and first responses is most of the
dashboard's time, and they only change when something is written. The cache key holds a
cheap "last change" read (one query of index-only lookups): the newest timeline event
(every case, promise, hand-off and contact change writes one), the newest hand-off review,
the team's own settings and its calendar with its closed days. A change therefore shows on
the next load; what moves with the clock alone (a first reply still awaited, the figures of
the week under way) is at most ``TIME_STEP`` seconds old. "Today" is never cached.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.utils import translation

from cases.models import CaseEvent, HandoffReview, SatisfactionAnswer, Team
from commitments.models import ClosedDay
from reports.first_response import FirstResponseReport, first_response_attainment
from reports.satisfaction import Satisfaction, satisfaction_weekly
from reports.selectors import (
    TODAY_FIELDS,
    TeamSummary,
    Window,
    team_summary,
    today_from,
    today_query,
)

CACHE_SECONDS = 600
TIME_STEP = 60


def _newest(qs: QuerySet[Any]) -> Subquery:
    return Subquery(qs.order_by("-pk").values("pk")[:1], output_field=IntegerField())


# What the weekly figures read besides the timeline: the team's settings, its calendar and
# closed days, the reviews. Read beside "today", in the same query.
_CALENDAR = (
    "calendar__weekly_hours",
    "calendar__around_the_clock",
    "calendar__holiday_country",
    "calendar__holiday_subdivision",
)


def _fingerprint_query(rows: QuerySet[Team]) -> tuple[QuerySet[Team], list[str]]:
    closed = (
        ClosedDay.objects.filter(calendar__team_id=OuterRef("pk")).order_by().values("calendar_id")
    )
    rows = rows.annotate(
        last_event=_newest(CaseEvent.objects.all()),
        last_review=_newest(HandoffReview.objects.all()),
        # an answer to the question at close writes no event, and its row was made when the
        # question went out: the newest answer's time
        last_answer=Subquery(
            SatisfactionAnswer.objects.filter(score__isnull=False)
            .order_by("-answered_at")
            .values("answered_at")[:1]
        ),
        closed_n=Subquery(closed.annotate(n=Count("pk")).values("n")),
        closed_max=Subquery(closed.annotate(m=Max("pk")).values("m")),
    )
    fields = [f.attname for f in Team._meta.concrete_fields]
    return rows, [
        *fields,
        *_CALENDAR,
        "last_event",
        "last_review",
        "last_answer",
        "closed_n",
        "closed_max",
    ]


def _digest(row: dict[str, Any], names: list[str]) -> str:
    text = repr([row[name] for name in names])
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def last_change(team: Team) -> str:
    """A fingerprint of everything the weekly figures read (one query)."""
    rows, names = _fingerprint_query(Team.objects.filter(pk=team.pk))
    return _digest(rows.values(*names).get(), names)


def dashboard_figures(
    *, team: Team, window: Window, now: datetime
) -> tuple[TeamSummary, FirstResponseReport, Satisfaction]:
    """``team_summary`` (first response from the contacts) and ``first_response_attainment``
    for the dashboard, the weekly figures from the cache while nothing changed; "today"
    read afresh in the query that reads the last change."""
    rows, horizon = today_query(team=team, now=now)
    rows, names = _fingerprint_query(rows)
    row = rows.values(*TODAY_FIELDS, *names).get()
    today = today_from(row, now=now, horizon=horizon)
    key = ":".join(
        [
            "dashboard-figures",
            str(team.pk),
            window.start.isoformat(),
            str(window.days),
            str(int(now.timestamp()) // TIME_STEP),
            translation.get_language() or "",
            _digest(row, names),
        ]
    )
    kept = cache.get(key)
    if kept is not None:
        summary, attainment, satisfaction = kept
        return (
            replace(summary, team=team, today=today),
            replace(attainment, team=team),
            satisfaction,
        )
    summary = team_summary(
        team=team, window=window, now=now, first_response_promises=False, today=today
    )
    attainment = first_response_attainment(team=team, window=window, now=now)
    satisfaction = satisfaction_weekly(team=team, window=window)
    cache.set(key, (summary, attainment, satisfaction), CACHE_SECONDS)
    return summary, attainment, satisfaction
