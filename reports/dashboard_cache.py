"""The team dashboard's weekly figures, kept in the cache per team, period and last change.

Working out eight weeks of promises, hand-offs and first responses is most of the
dashboard's time, and they only change when something is written. The cache key holds a
cheap "last change" read (one query of index-only lookups): the newest timeline event
(every case, promise, hand-off and contact change writes one), the newest hand-off review,
the team's own settings and its calendar with its closed days. A change therefore shows on
the next load; what moves with the clock alone (a first reply still awaited, the figures of
the week under way) is at most ``TIME_STEP`` seconds old. "Today"'s counts are never cached.

The "away" panel (``reports.absences``: who is away, who covers, what is uncovered) is kept
under the same key and a version of the team's people: saving or deleting an absence, an
agent profile or a user, or changing who belongs to a team, gives the version a new value when
the transaction commits, and a backup set by the team's cover page changes the fingerprint's
backup sums. Its times move with the clock by at most ``TIME_STEP`` seconds.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import translation

from cases.models import Absence, AgentProfile, CaseEvent, HandoffReview, SatisfactionAnswer, Team
from commitments.models import ClosedDay
from reports.absences import TeamAbsences, team_absences
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
_WIDE: DecimalField[Any, Any] = DecimalField(max_digits=40, decimal_places=0)
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
        # the team's backups (set by an update that sends no signal): two sums that differ
        # when any agent's backup changes
        backups=Subquery(
            AgentProfile.objects.filter(teams=OuterRef("pk"))
            .order_by()
            .values("teams")
            .annotate(
                # in numbers without a size (user ids are 32-bit: their square times a
                # backup's id overflowed PostgreSQL's integer)
                s=Sum(
                    Coalesce(Cast("backup_agent_id", _WIDE), Value(0, _WIDE))
                    * (Cast("user_id", _WIDE) * Cast("user_id", _WIDE) + Value(1, _WIDE)),
                    output_field=_WIDE,
                )
            )
            .values("s")
        ),
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
        "backups",
    ]


def _digest(row: dict[str, Any], names: list[str]) -> str:
    text = repr([row[name] for name in names])
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def last_change(team: Team) -> str:
    """A fingerprint of everything the weekly figures read (one query)."""
    rows, names = _fingerprint_query(Team.objects.filter(pk=team.pk))
    return _digest(rows.values(*names).get(), names)


PEOPLE_VERSION = "dashboard-people-version"


def _people_version() -> str:
    cache.add(PEOPLE_VERSION, uuid.uuid4().hex, None)
    return str(cache.get(PEOPLE_VERSION) or "")


def _bump() -> None:
    cache.set(PEOPLE_VERSION, uuid.uuid4().hex, None)


def _people_changed(**kwargs: object) -> None:
    # now (this transaction's own next read) and at commit (a page read meanwhile, from
    # before the change, may have been kept under the first value)
    _bump()
    transaction.on_commit(_bump)


for _model in (Absence, AgentProfile, get_user_model()):
    post_save.connect(_people_changed, sender=_model, dispatch_uid=f"dashboard-people-{_model}")
    post_delete.connect(
        _people_changed, sender=_model, dispatch_uid=f"dashboard-people-del-{_model}"
    )
m2m_changed.connect(
    _people_changed, sender=AgentProfile.teams.through, dispatch_uid="dashboard-people-teams"
)


def dashboard_figures(
    *, team: Team, window: Window, now: datetime
) -> tuple[TeamSummary, FirstResponseReport, Satisfaction]:
    """``team_summary`` (first response from the contacts) and ``first_response_attainment``
    for the dashboard, the weekly figures from the cache while nothing changed; "today"
    read afresh in the query that reads the last change."""
    summary, attainment, satisfaction, _away = dashboard_panels(team=team, window=window, now=now)
    return summary, attainment, satisfaction


def dashboard_panels(
    *, team: Team, window: Window, now: datetime
) -> tuple[TeamSummary, FirstResponseReport, Satisfaction, TeamAbsences]:
    """``dashboard_figures`` and the "away" panel (``team_absences`` at "today"'s now), both
    from the cache while nothing they read changed."""
    version = _people_version()
    rows, horizon = today_query(team=team, now=now)
    rows, names = _fingerprint_query(rows)
    row = rows.values(*TODAY_FIELDS, *names).get()
    today = today_from(row, now=now, horizon=horizon)
    digest = _digest(row, names)
    step = str(int(now.timestamp()) // TIME_STEP)
    away_key = ":".join(["dashboard-away", str(team.pk), step, version, digest])
    away = cache.get(away_key)
    if away is None:
        away = team_absences(team=team, now=today.now)
        cache.set(away_key, away, CACHE_SECONDS)
    key = ":".join(
        [
            "dashboard-figures",
            str(team.pk),
            window.start.isoformat(),
            str(window.days),
            step,
            translation.get_language() or "",
            digest,
        ]
    )
    kept = cache.get(key)
    if kept is not None:
        summary, attainment, satisfaction = kept
        return (
            replace(summary, team=team, today=today),
            replace(attainment, team=team),
            satisfaction,
            away,
        )
    summary = team_summary(
        team=team, window=window, now=now, first_response_promises=False, today=today
    )
    attainment = first_response_attainment(team=team, window=window, now=now)
    satisfaction = satisfaction_weekly(team=team, window=window)
    cache.set(key, (summary, attainment, satisfaction), CACHE_SECONDS)
    return summary, attainment, satisfaction, away
