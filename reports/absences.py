"""Who of a team is away today or soon, who covers, and what they leave uncovered: the
dashboard's "today" panel.

An agent is listed while switched away ("away now") or with an absence under way or starting
within ``UNCOVERED_ALERT_BUSINESS_DAYS`` business days on the team's calendar (their first
such absence). Their cover is decided as ``cases.availability.hours`` decides it, at the moment the
absence starts (now, for one under way or the switch): their backup unless the backup is away
then, else the team's on-duty agent unless that is them or they are away then. A promise is
*uncovered* when it is open, on one of their cases of the team with no hand-off offered,
falls due while they are away (any time, for the switch: nobody knows when they are back), and
no cover is present when it falls due (or now, for one already overdue): a cover acts for the
owner, as the managers' alert when an absence is recorded counts it.

One query over the team's agents, with the absence, the cover's availability and the promise
counts as subqueries; for an agent with a cover and promises not handed on, one more and the
cover's absences at each due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from cases.availability.hours import owner_cover
from cases.availability.services import UNCOVERED_ALERT_BUSINESS_DAYS
from cases.models import OPEN_STATUSES, Absence, AgentProfile, Handoff, HandoffStatus, Team
from cases.recipients import display_name
from commitments.calendar_services import business_calendar_of
from commitments.calendars import add_business_time
from commitments.models import Commitment, CommitmentStatus

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AwayRow:
    agent_id: int
    name: str
    switched: bool  # the "away now" switch (no known return)
    starts_at: datetime | None  # the absence (None for the switch)
    ends_at: datetime | None
    note: str
    away_now: bool
    cover_id: int | None
    cover_name: str  # "" when nobody present covers
    promises_due: int  # open promises due while away
    uncovered: int  # of those, on cases with no hand-off offered
    due_from: datetime | None  # the window of those promises (None: unbounded)
    due_to: datetime | None


@dataclass(frozen=True)
class TeamAbsences:
    horizon: datetime  # absences starting before this are listed
    rows: list[AwayRow]

    @property
    def uncovered(self) -> int:
        return sum(row.uncovered for row in self.rows)


def _count(qs: QuerySet) -> Coalesce:
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _away_at(agent: Any, moment: str) -> Exists:
    """An absence of ``agent`` (an outer reference) covering the outer ``moment``."""
    return Exists(
        Absence.objects.filter(agent_id=agent, starts_at__lte=OuterRef(moment)).filter(
            ends_at__gt=OuterRef(moment)
        )
    )


def team_absences(*, team: Team, now: datetime) -> TeamAbsences:
    """The team's agents away now or from within two business days, with their cover and
    the promises they leave uncovered (no hand-off offered and no cover present when due);
    one query, and one more per agent with a cover and promises not handed on."""
    calendar = business_calendar_of(team).as_calendar()
    horizon = add_business_time(
        calendar, now, calendar.standard_day * UNCOVERED_ALERT_BUSINESS_DAYS
    )
    first = Absence.objects.filter(
        agent_id=OuterRef("user_id"), ends_at__gt=now, starts_at__lt=horizon
    ).order_by("starts_at", "id")
    switched = Q(away_since__lte=now)
    time: DateTimeField = DateTimeField()
    on_duty = team.on_duty_id or 0
    duty = AgentProfile.objects.filter(user_id=on_duty, user__is_active=True)
    promises = Commitment.objects.filter(
        owner_id=OuterRef("user_id"),
        case__team_id=team.pk,
        case__status__in=OPEN_STATUSES,
        status=CommitmentStatus.OPEN,
        due_at__gte=OuterRef("due_from"),
        due_at__lt=OuterRef("due_to"),
    )
    offered = Handoff.objects.filter(case_id=OuterRef("case_id"), status=HandoffStatus.OFFERED)
    profiles = (
        AgentProfile.objects.filter(teams=team, user__is_active=True)
        .annotate(
            abs_start=Subquery(first.values("starts_at")[:1], output_field=time),
            abs_end=Subquery(first.values("ends_at")[:1], output_field=time),
            abs_note=Subquery(first.values("note")[:1]),
        )
        .filter(switched | Q(abs_start__isnull=False))
        .annotate(
            switched=Case(
                When(switched, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            # the moment the cover is decided at, and the window of promises due meanwhile
            moment=Case(
                When(switched, then=Value(now, output_field=time)),
                default=Greatest(F("abs_start"), Value(now, output_field=time)),
                output_field=time,
            ),
            due_from=Case(
                When(switched, then=Value(EARLIEST, output_field=time)),
                default=F("abs_start"),
                output_field=time,
            ),
            due_to=Case(
                When(switched, then=Value(LATEST, output_field=time)),
                default=F("abs_end"),
                output_field=time,
            ),
        )
        .annotate(
            backup_absent=_away_at(OuterRef("backup_agent_id"), "moment"),
            duty_absent=_away_at(on_duty, "moment"),
            duty_away_since=Subquery(duty.values("away_since")[:1], output_field=time),
            duty_name=Subquery(duty.values("display_name")[:1]),
            duty_username=Subquery(duty.values("user__username")[:1]),
            n_due=_count(promises),
            n_uncovered=_count(promises.exclude(Exists(offered))),
        )
        .select_related("user", "backup_agent__agent_profile")
        .order_by("moment", "display_name", "user_id")
    )
    rows = []
    for p in profiles:
        cover_id, cover_name = _cover(p, team, on_duty)
        uncovered = p.n_uncovered
        if uncovered and cover_id is not None:
            uncovered = _without_cover(p, team, now)
        rows.append(
            AwayRow(
                agent_id=p.user_id,
                name=display_name(p.user, p),
                switched=p.switched,
                starts_at=None if p.switched else p.abs_start,
                ends_at=None if p.switched else p.abs_end,
                note=p.away_note if p.switched else (p.abs_note or ""),
                away_now=p.switched or p.abs_start <= now,
                cover_id=cover_id,
                cover_name=cover_name,
                promises_due=p.n_due,
                uncovered=uncovered,
                due_from=None if p.switched else p.abs_start,
                due_to=None if p.switched else p.abs_end,
            )
        )
    return TeamAbsences(horizon=horizon, rows=rows)


def _without_cover(p: Any, team: Team, now: datetime) -> int:
    """Of an away agent's promises with no hand-off offered, those due when no cover is
    present: a cover acts for the owner, so a promise due while the backup or the on-duty
    agent is in is covered (the managers' alert asks the same, ``owner_cover``); one already
    overdue is covered when a cover is present now. Read only for an agent who has such
    promises and a cover present now: one query, and the cover's absences at each due time."""
    offered = Handoff.objects.filter(case_id=OuterRef("case_id"), status=HandoffStatus.OFFERED)
    due = (
        Commitment.objects.filter(
            owner_id=p.user_id,
            case__team_id=team.pk,
            case__status__in=OPEN_STATUSES,
            status=CommitmentStatus.OPEN,
            due_at__gte=p.due_from,
            due_at__lt=p.due_to,
        )
        .exclude(Exists(offered))
        .values_list("due_at", flat=True)
    )
    return sum(owner_cover(owner=p.user, team=team, at=max(at, now)) is None for at in due)


def _cover(p: Any, team: Team, on_duty: int) -> tuple[int | None, str]:
    backup = p.backup_agent
    if backup is not None and backup.pk != p.user_id and backup.is_active:
        profile = getattr(backup, "agent_profile", None)
        switched = profile is not None and profile.away_since and profile.away_since <= p.moment
        if not switched and not p.backup_absent:
            return backup.pk, display_name(backup, profile)
    if on_duty and on_duty != p.user_id and p.duty_username is not None:
        switched = p.duty_away_since is not None and p.duty_away_since <= p.moment
        if not switched and not p.duty_absent:
            return on_duty, p.duty_name or p.duty_username
    return None, ""


def absence_lines(away: TeamAbsences, *, team_id: int) -> list[dict[str, Any]]:
    """The dashboard's rows: each with a link to the promises due while the agent is away
    and to the manager's "cover for" page."""
    lines = []
    rows_path = reverse("reports-promises")
    for row in away.rows:
        params: dict[str, Any] = {"team": team_id, "open": "on", "owner": row.agent_id}
        if row.due_from is not None and row.due_to is not None:
            params |= {"due_after": row.due_from.isoformat(), "due_before": row.due_to.isoformat()}
        lines.append(
            {
                "row": row,
                "promises_url": f"{rows_path}?{urlencode(params)}",
                "cover_for_url": reverse("agent-cover-for", args=[row.agent_id]),
            }
        )
    return lines


__all__ = ["AwayRow", "TeamAbsences", "absence_lines", "team_absences"]
