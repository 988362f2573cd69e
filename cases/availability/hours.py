"""When an agent can be reached, and who covers for an owner who cannot.

Three things make an agent unavailable at a moment: outside their working hours (their own
weekly hours in their own zone where set, else their first team's calendar; the team's
holidays and closed days either way), inside a planned ``Absence`` (``starts_at`` included,
``ends_at`` excluded), or the "away now" switch (``AgentProfile.away_since``: away from that
moment until switched off, whatever the hours say). An inactive account is never available.

*Away* is the narrower notion: an absence or the switch, not an evening. Cover follows being
away: an owner who has gone home for the night is still the customer's contact (their hours
are on their card), an owner on holiday is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from caseowner.bound import Statement
from caseowner.types import User
from cases import hooks
from cases.models import OPEN_STATUSES, Absence, AgentProfile, Case, Team
from notifications.services import outbox_memo

# How many absences and openings ``agent_next_available`` steps over before giving up.
_MAX_STEPS = 200


def _profile(agent: User) -> AgentProfile | None:
    return getattr(agent, "agent_profile", None) if agent is not None else None


def _home_team(agent: User) -> Team | None:
    """The team whose calendar an agent works by: their first team (by id)."""
    if hasattr(agent, "_caseowner_home_team"):
        cached: Team | None = agent._caseowner_home_team
        return cached
    team = None
    if _profile(agent) is not None:
        team = (
            Team.objects.filter(agents__user=agent)
            .select_related("calendar")
            .order_by("id")
            .first()
        )
    agent._caseowner_home_team = team
    return team


def agent_working_time(agent: User) -> hooks.WorkingTime | None:
    """The agent's working hours (None: no calendar, so every moment is working time)."""
    profile, team = _profile(agent), _home_team(agent)
    if profile is None or team is None:
        return None
    tz_name = profile.time_zone or team.time_zone
    return hooks.agent_working_time(team, tz_name, profile.weekly_hours or {})


def _absences_from(agent: User, moment: datetime) -> list[Absence]:
    return list(
        Absence.objects.filter(agent=agent, ends_at__gt=moment).order_by("starts_at", "id")[:50]
    )


def _absence_at(absences: list[Absence], at: datetime) -> Absence | None:
    for absence in absences:
        if absence.starts_at <= at < absence.ends_at:
            return absence
    return None


def agent_away(agent: User, at: datetime) -> bool:
    """Away at ``at``: switched away (at or after the switch), inside an absence, or inactive."""
    if not agent.is_active:
        return True
    profile = _profile(agent)
    if profile is not None and profile.away_since is not None and at >= profile.away_since:
        return True
    spans = _absence_spans(agent.pk)
    if spans is not None and at >= spans[0]:
        return any(starts_at <= at < ends_at for starts_at, ends_at in spans[1])
    return Absence.objects.filter(agent=agent, starts_at__lte=at, ends_at__gt=at).exists()


# A service call asks about the same agent at several moments (each reminder's due time, the
# notice's now): inside an ``outbox_batch`` the agent's absences from a day back are read once.
_SPANS_FROM = timedelta(days=1)


def _absence_spans(agent_id: int) -> tuple[datetime, list[tuple[datetime, datetime]]] | None:
    memo = outbox_memo()
    if memo is None:
        return None
    key = ("absences", agent_id)
    spans = memo.get(key)
    if spans is None:
        since = timezone.now() - _SPANS_FROM
        rows = Absence.objects.filter(agent_id=agent_id, ends_at__gt=since)
        spans = memo[key] = (since, list(rows.values_list("starts_at", "ends_at")))
    return spans  # type: ignore[return-value]


@receiver(post_save, sender=Absence, dispatch_uid="absence_saved_memo")
@receiver(post_delete, sender=Absence, dispatch_uid="absence_deleted_memo")
def _absence_changed(*, instance: Absence, **kwargs: object) -> None:
    memo = outbox_memo()
    if memo is not None:
        memo.pop(("absences", instance.agent_id), None)


def agent_available(agent: User, at: datetime) -> bool:
    """Reachable at ``at``: not away and inside working hours."""
    if agent_away(agent, at):
        return False
    working = agent_working_time(agent)
    return working is None or working.is_working(at)


def agent_next_available(agent: User, after: datetime) -> datetime | None:
    """The first moment at or after ``after`` at which the agent is available; None while
    the "away now" switch is on (nobody knows when they are back) or with no working time
    ahead."""
    if not agent.is_active:
        return None
    profile = _profile(agent)
    if profile is not None and profile.away_since is not None:
        return None
    working = agent_working_time(agent)
    absences = _absences_from(agent, after)
    moment = after
    for _ in range(_MAX_STEPS):
        absence = _absence_at(absences, moment)
        if absence is not None:
            moment = absence.ends_at
            continue
        opening = moment if working is None else working.next_opening(moment)
        if opening is None:
            return None
        if _absence_at(absences, opening) is None:
            return opening
        moment = opening
    return None


@dataclass(frozen=True)
class Cover:
    """Who looks after an away owner's customers at a moment, and until when."""

    agent: User  # the backup, else the team's on-duty agent
    owner_back_at: datetime | None


def owner_cover(*, owner: User, team: Team, at: datetime) -> Cover | None:
    """The cover while ``owner`` is away at ``at`` (None: the owner is not away, or nobody
    present can cover): the owner's backup unless they are away too, else the team's on-duty
    agent unless that is the owner or they are away."""
    if not agent_away(owner, at):
        return None
    agent = _cover_agent(owner=owner, team=team, at=at)
    if agent is None:
        return None
    return Cover(agent=agent, owner_back_at=agent_next_available(owner, at))


def _cover_agent(*, owner: User, team: Team, at: datetime) -> User | None:
    """The backup unless away, else the team's on-duty agent unless that is the owner or
    they are away (the owner is known to be away)."""
    profile = _profile(owner)
    candidates = [profile.backup_agent if profile is not None else None, team.on_duty]
    for candidate in candidates:
        if candidate is None or candidate.pk == owner.pk:
            continue
        if not agent_away(candidate, at):
            return candidate
    return None


def case_attention_recipients(case: Case, at: datetime) -> list[User]:
    """Who must hear about the case's promise due at ``at``: the cover first when the owner
    is away then, and the owner (who stays accountable) always."""
    cover = owner_cover(owner=case.owner, team=case.team, at=at)
    return [case.owner] if cover is None else [cover.agent, case.owner]


def owner_back_text(moment: datetime | None, tz_name: str) -> str:
    """``Monday 09:00`` within a week, else ``Monday 3 August 2026, 09:00``; "" when unknown."""
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = moment.astimezone(tz)
    if local - timezone.now() < timedelta(days=6):
        return f"{local:%A %H:%M}"
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def cover_candidates(*, user: User, at: datetime) -> QuerySet[Case]:
    """Open cases whose owner is away at ``at`` and who has ``user`` as backup or on duty: the
    cases ``user`` may cover (whether a backup who is away too hands over to the on-duty
    agent is ``cover_duties``' to decide). Rows may repeat; ``Exists`` over it asks "does
    ``user`` cover anyone now?" inside another query."""
    return (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .filter(Q(owner__agent_profile__backup_agent=user) | Q(team__on_duty=user))
        .exclude(owner=user)
        .filter(
            Q(owner__agent_profile__away_since__lte=at)
            | Q(owner__absences__starts_at__lte=at, owner__absences__ends_at__gt=at)
        )
    )


def _cover_candidates_shown(user: User, at: datetime) -> QuerySet[Case]:
    return (
        cover_candidates(user=user, at=at)
        .select_related(
            "owner__agent_profile__backup_agent__agent_profile", "team__on_duty", "customer"
        )
        .distinct()
        .order_by("next_due_at", "id")[:100]
    )


# written once (the queue asks it on every load, usually to learn there is nothing to cover)
COVER_CANDIDATES = Statement(_cover_candidates_shown, user="user", at=datetime)


def cover_duties(*, user: User, at: datetime) -> list[Case]:
    """Open cases whose owner is away at ``at`` and whom ``user`` covers (as their backup, or
    as the team's on-duty agent when the backup is away too): the agent's page lists them."""
    candidates = COVER_CANDIDATES.objects(user=user, at=at)
    # Who covers depends on the owner and the team only: decided once per pair, so the
    # queries grow with the away colleagues, never with their cases.
    covers: dict[tuple[int, int], int | None] = {}
    duties = []
    for case in candidates:
        key = (case.owner_id, case.team_id)
        if key not in covers:
            away = agent_away(case.owner, at)
            cover = _cover_agent(owner=case.owner, team=case.team, at=at) if away else None
            covers[key] = cover.pk if cover is not None else None
        if covers[key] == user.pk:
            duties.append(case)
    return duties
