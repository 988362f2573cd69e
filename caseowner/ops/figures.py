"""Per-team figures on promises and hand-offs, computed by a periodic job, read by scrapes.

Counting a team's open promises joins commitments to cases: at a million cases that is a
second or more, too slow for every scrape and pointless every 15 s from every Prometheus
replica. The ``ops.refresh_figures`` job (``OPS_FIGURES_INTERVAL``) computes them in four
grouped queries (besides the teams and their calendars) and stores one JSON snapshot in the
shared store; ``/metrics`` reads the snapshot and says how old it is
(``caseowner_ops_figures_age_seconds``).

Days are the team's local days; "within one business hour" is one hour of the team's
working time (its calendar), as reminders count it; the daily norm of missed promises is
the mean over the 28 local days before today.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q
from django.utils import timezone

from caseowner.store import get_store
from cases.models import Handoff, HandoffStatus, Team
from commitments.calendars import add_business_time
from commitments.models import BusinessCalendar, Commitment, CommitmentStatus

SNAPSHOT = "team_figures"
NORM_DAYS = 28

PROMISE_FIELDS = ("open", "due_within_business_hour", "at_risk", "missed_today", "missed_norm")
HANDOFF_FIELDS = ("waiting", "oldest_waiting_seconds", "escalated_today")


def _local_midnight(now: datetime, tz_name: str) -> datetime:
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _any_team(field: str, bounds: Iterable[tuple[int, Q]]) -> Q:
    """OR over teams of ``team_id = t AND <that team's bound>``."""
    condition = Q(pk__in=[])
    for team_id, bound in bounds:
        condition |= Q(**{field: team_id}) & bound
    return condition


def team_figures(*, now: datetime | None = None) -> dict[str, Any]:
    """Every team's promise and hand-off figures at ``now``, keyed by team name."""
    now = now or timezone.now()
    teams = list(Team.objects.order_by("id"))
    calendars = {c.team_id: c for c in BusinessCalendar.objects.filter(team__in=teams)}
    midnight: dict[int, datetime] = {}
    soon: dict[int, datetime] = {}
    for team in teams:
        midnight[team.pk] = _local_midnight(now, team.time_zone)
        calendar = calendars.get(team.pk) or BusinessCalendar(team=team)
        soon[team.pk] = add_business_time(calendar.as_calendar(), now, timedelta(hours=1))
    figures: dict[int, dict[str, float]] = {
        t.pk: dict.fromkeys(PROMISE_FIELDS + HANDOFF_FIELDS, 0.0) for t in teams
    }

    open_rows = (
        Commitment.objects.filter(status=CommitmentStatus.OPEN)
        .values("team_id")
        .annotate(
            open=Count("id"),
            due_soon=Count(
                "id",
                filter=Q(due_at__gt=now)
                & _any_team("team_id", ((t, Q(due_at__lte=c)) for t, c in soon.items())),
            ),
            at_risk=Count(
                "id",
                filter=Q(at_risk_from__lte=now, due_at__gt=now, confirmed_on_track_at__isnull=True),
            ),
        )
        .order_by()
    )
    for row in open_rows:
        row_figures = figures.get(row["team_id"])
        if row_figures is not None:
            row_figures["open"] = row["open"]
            row_figures["due_within_business_hour"] = row["due_soon"]
            row_figures["at_risk"] = row["at_risk"]

    earliest = min(midnight.values(), default=now) - timedelta(days=NORM_DAYS)
    missed_rows = (
        Commitment.objects.filter(status=CommitmentStatus.MISSED, ended_at__gte=earliest)
        .values("team_id")
        .annotate(
            today=Count(
                "id",
                filter=_any_team("team_id", ((t, Q(ended_at__gte=m)) for t, m in midnight.items())),
            ),
            before=Count(
                "id",
                filter=_any_team(
                    "team_id",
                    (
                        (t, Q(ended_at__lt=m, ended_at__gte=m - timedelta(days=NORM_DAYS)))
                        for t, m in midnight.items()
                    ),
                ),
            ),
        )
        .order_by()
    )
    for row in missed_rows:
        row_figures = figures.get(row["team_id"])
        if row_figures is not None:
            row_figures["missed_today"] = row["today"]
            row_figures["missed_norm"] = round(row["before"] / NORM_DAYS, 3)

    waiting_rows = (
        Handoff.objects.filter(status=HandoffStatus.OFFERED)
        .values("team_id")
        .annotate(waiting=Count("id"), oldest=Min("offered_at"))
        .order_by()
    )
    for row in waiting_rows:
        row_figures = figures.get(row["team_id"])
        if row_figures is not None:
            row_figures["waiting"] = row["waiting"]
            row_figures["oldest_waiting_seconds"] = max(0.0, (now - row["oldest"]).total_seconds())

    escalated_rows = (
        Handoff.objects.filter(escalated_at__gte=min(midnight.values(), default=now))
        .values("team_id")
        .annotate(
            today=Count(
                "id",
                filter=_any_team(
                    "team_id", ((t, Q(escalated_at__gte=m)) for t, m in midnight.items())
                ),
            )
        )
        .order_by()
    )
    for row in escalated_rows:
        row_figures = figures.get(row["team_id"])
        if row_figures is not None:
            row_figures["escalated_today"] = row["today"]

    return {
        "computed_at": now.timestamp(),
        "teams": {t.name: figures[t.pk] for t in teams},
    }


def figures_refresh(*, now: datetime | None = None) -> dict[str, Any]:
    """Compute the team figures and store them for the scrapes; returns the snapshot."""
    started = time.monotonic()
    snapshot = team_figures(now=now)
    snapshot["duration_seconds"] = round(time.monotonic() - started, 6)
    get_store().put_document(SNAPSHOT, snapshot)
    return snapshot


def figures_snapshot() -> dict[str, Any]:
    """The stored snapshot; computed now when none was ever stored (a fresh deployment)."""
    snapshot = get_store().get_document(SNAPSHOT)
    if not isinstance(snapshot, dict):
        snapshot = figures_refresh()
    return snapshot
