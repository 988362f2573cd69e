"""Writes on agents' availability: planned absences, the "away now" switch, and leaving.

Each function is one transaction. Being away never moves a case: the owner stays accountable
and a cover looks after the customer (``cases.availability.hours``); the timeline of each of the
owner's open cases records who covers, and the promises due meanwhile are re-addressed to
the cover (``hooks.availability_changed``). Only an accepted hand-off moves a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from caseowner.parsing import date_problem
from caseowner.types import User
from cases import hooks
from cases.availability.hours import owner_cover
from cases.errors import CaseRuleError
from cases.models import (
    OPEN_STATUSES,
    Absence,
    AgentProfile,
    Case,
    CaseEvent,
    EventKind,
    Handoff,
    HandoffStatus,
    StaffLanguage,
    Team,
    format_ref,
)
from cases.notices import local_time_text, staff_case_url
from cases.permissions import managed_team_ids
from cases.recipients import agent_recipient, owner_contact
from notifications.services import notification_enqueue

# Absences starting within this many business days alert the managers about promises left
# uncovered (a hand-off not even offered).
UNCOVERED_ALERT_BUSINESS_DAYS = 2


def _agent_teams(agent: User) -> list[Team]:
    return list(Team.objects.filter(agents__user=agent).order_by("id"))


def may_plan_for(by: User, agent: User) -> bool:
    """The agent themselves, a manager of one of their teams, or a superuser."""
    if by.pk == agent.pk or getattr(by, "is_superuser", False):
        return True
    return bool(managed_team_ids(by) & {t.pk for t in _agent_teams(agent)})


def _require_planner(by: User, agent: User) -> None:
    if not may_plan_for(by, agent):
        raise CaseRuleError(
            "not_agent_or_manager",
            "Only the agent or a manager of their team can change their availability.",
            status=403,
        )


def _profile_locked(agent: User) -> AgentProfile:
    profile = AgentProfile.objects.select_for_update().filter(user=agent).first()
    if profile is None:
        raise CaseRuleError("not_an_agent", "This person is not an agent.", status=404)
    agent.agent_profile = profile
    return profile


@dataclass
class AbsencePlan:
    """A recorded absence and what it leaves to do: the owner's promises due during it, by
    case (each case offered a hand-off on the page), and whether the managers were told."""

    absence: Absence
    promises_by_case: dict[int, list[hooks.DuePromise]] = field(default_factory=dict)
    uncovered_case_ids: list[int] = field(default_factory=list)
    managers_alerted: bool = False


def _record_cover(
    *,
    agent: User,
    by: User | None,
    start: datetime,
    end: datetime | None,
    now: datetime,
    absence: Absence | None,
    kind: str,
) -> int:
    """One timeline row per open case of ``agent`` naming the cover (or that the owner is
    back), in one insert."""
    cases = list(Case.objects.filter(owner=agent, status__in=OPEN_STATUSES).select_related("team"))
    if not cases:
        return 0
    covers: dict[int, int | None] = {}
    rows = []
    for case in cases:
        if case.team_id not in covers:
            cover = (
                owner_cover(owner=agent, team=case.team, at=start)
                if kind == EventKind.COVER_STARTED
                else None
            )
            covers[case.team_id] = cover.agent.pk if cover else None
        data: dict[str, Any] = {"owner_id": agent.pk, "from": start.isoformat()}
        if kind == EventKind.COVER_STARTED:
            data["cover_id"] = covers[case.team_id]
        if end is not None:
            data["until"] = end.isoformat()
        if absence is not None:
            data["absence_id"] = absence.pk
        rows.append(CaseEvent(case=case, kind=kind, actor=by, at=now, data=data))
    CaseEvent.objects.bulk_create(rows)
    return len(rows)


def _uncovered(plan: AbsencePlan) -> list[int]:
    """Cases with promises due during the absence that nobody but the away owner will keep:
    no hand-off offered, and a promise falls due when no cover is present (a cover acts for
    the owner, so a promise due while the backup or the on-duty agent is in is covered)."""
    offered = set(
        Handoff.objects.filter(
            case_id__in=list(plan.promises_by_case), status=HandoffStatus.OFFERED
        ).values_list("case_id", flat=True)
    )
    waiting = [case_id for case_id in plan.promises_by_case if case_id not in offered]
    cases = Case.objects.select_related("owner", "team__on_duty").in_bulk(waiting)
    return [
        case_id
        for case_id in waiting
        if any(
            owner_cover(owner=cases[case_id].owner, team=cases[case_id].team, at=promise.due_at)
            is None
            for promise in plan.promises_by_case[case_id]
        )
    ]


def absence_alert_if_uncovered(*, absence: Absence, now: datetime) -> bool:
    """Tell the agent's managers, once per absence, when it starts within
    ``UNCOVERED_ALERT_BUSINESS_DAYS`` business days and leaves promises with nobody but the
    away owner. Called when the absence is recorded and by the periodic sweep."""
    if absence.uncovered_alerted_at is not None or absence.ends_at <= now:
        return False
    teams = _agent_teams(absence.agent)
    if not teams:
        return False
    horizon = hooks.add_business_time(
        teams[0], now, timedelta(hours=8 * UNCOVERED_ALERT_BUSINESS_DAYS)
    )
    if absence.starts_at > horizon:
        return False
    plan = AbsencePlan(absence=absence)
    for promise in hooks.collect_promises_due(
        absence.agent_id, max(absence.starts_at, now), absence.ends_at
    ):
        plan.promises_by_case.setdefault(promise.case_id, []).append(promise)
    uncovered = _uncovered(plan)
    if not uncovered:
        return False
    agent_name = owner_contact(absence.agent)["name"]
    managers = {m.pk: m for t in teams for m in t.managers.filter(is_active=True)}
    tz_name = teams[0].time_zone
    for manager in sorted(managers.values(), key=lambda m: m.pk):
        notification_enqueue(
            recipient=agent_recipient(manager, kind="manager"),
            template="cases/email/absence_uncovered",
            context={
                "manager_name": owner_contact(manager)["name"],
                "agent_name": agent_name,
                "starts": local_time_text(absence.starts_at, tz_name),
                "ends": local_time_text(absence.ends_at, tz_name),
                "cases": [
                    {
                        "ref": format_ref(cid),
                        "url": staff_case_url(Case(pk=cid)),
                        "promises": [
                            f"{p.description} (due {local_time_text(p.due_at, tz_name)})"
                            for p in plan.promises_by_case[cid]
                        ],
                    }
                    for cid in uncovered
                ],
            },
            dedupe_key=f"absence:{absence.pk}:uncovered:manager:{manager.pk}",
            tags=[f"absence:{absence.pk}"],
        )
    absence.uncovered_alerted_at = now
    absence.save(update_fields=["uncovered_alerted_at"])
    return True


def absences_to_check(*, limit: int = 500) -> list[int]:
    """Absences not yet alerted that start within the alert horizon's outer bound (a week
    of plain time covers two business days on any calendar with weekends)."""
    now = timezone.now()
    return list(
        Absence.objects.filter(
            uncovered_alerted_at__isnull=True,
            starts_at__lte=now + timedelta(days=7),
            ends_at__gt=now,
        )
        .order_by("starts_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def absence_alert_once(*, absence_id: int) -> bool:
    """The sweep's step for one absence, with its row locked (skipped when another holds it)."""
    absence = (
        Absence.objects.select_for_update(skip_locked=True)
        .select_related("agent")
        .filter(pk=absence_id)
        .first()
    )
    if absence is None:
        return False
    return absence_alert_if_uncovered(absence=absence, now=timezone.now())


@transaction.atomic
def absence_record(
    *, agent: User, by: User, starts_at: datetime, ends_at: datetime, note: str = ""
) -> AbsencePlan:
    """A planned absence, by the agent or a manager of their team. Lists the owner's promises
    due during it (each case is offered a hand-off from the page: the normal one, through the
    gate) and alerts the managers at once when it starts soon and leaves promises uncovered."""
    _require_planner(by, agent)
    _profile_locked(agent)
    errors: dict[str, list[str]] = {}
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if timezone.is_naive(value):
            errors[name] = ["Give a time zone offset."]
        elif problem := date_problem(value):
            # the calendar's ends: a week's arithmetic around them would overflow
            errors[name] = [problem]
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = ["Must be after the start."]
    now = timezone.now()
    if not errors and ends_at <= now:
        errors["ends_at"] = ["Must be in the future."]
    if errors:
        raise CaseRuleError("invalid_absence", "The absence has invalid times.", fields=errors)
    absence = Absence.objects.create(
        agent=agent, starts_at=starts_at, ends_at=ends_at, note=note.strip()[:200], created_by=by
    )
    _record_cover(
        agent=agent,
        by=by,
        start=starts_at,
        end=ends_at,
        now=now,
        absence=absence,
        kind=EventKind.COVER_STARTED,
    )
    hooks.run(hooks.availability_changed, agent=agent, start=starts_at, end=ends_at, now=now)
    plan = AbsencePlan(absence=absence)
    for promise in hooks.collect_promises_due(agent.pk, max(starts_at, now), ends_at):
        plan.promises_by_case.setdefault(promise.case_id, []).append(promise)
    plan.uncovered_case_ids = _uncovered(plan)
    plan.managers_alerted = absence_alert_if_uncovered(absence=absence, now=now)
    return plan


@transaction.atomic
def absence_end(*, absence: Absence, by: User) -> Absence:
    """End an absence now (one not yet begun is called off): the owner is back, reminders
    of promises due in the rest of it go to the owner alone."""
    absence = Absence.objects.select_for_update().select_related("agent").get(pk=absence.pk)
    _require_planner(by, absence.agent)
    now = timezone.now()
    if absence.ended_at is not None or absence.ends_at <= now:
        raise CaseRuleError("absence_over", "This absence is already over.", status=409)
    old_end = absence.ends_at
    absence.ends_at = max(now, absence.starts_at)
    absence.ended_at = now
    absence.save(update_fields=["ends_at", "ended_at"])
    _record_cover(
        agent=absence.agent,
        by=by,
        start=absence.ends_at,
        end=None,
        now=now,
        absence=absence,
        kind=EventKind.COVER_ENDED,
    )
    hooks.run(
        hooks.availability_changed, agent=absence.agent, start=absence.ends_at, end=old_end, now=now
    )
    return absence


@transaction.atomic
def agent_set_away(*, agent: User, by: User, away: bool, note: str = "") -> AgentProfile:
    """The "away now" switch for the unplanned (ill, called away): cover starts at once and
    lasts until it is switched off."""
    _require_planner(by, agent)
    profile = _profile_locked(agent)
    if (profile.away_since is not None) == away:
        return profile
    now = timezone.now()
    if away:
        profile.away_since, profile.away_note = now, note.strip()[:200]
    else:
        profile.away_since, profile.away_note = None, ""
    profile.save(update_fields=["away_since", "away_note"])
    kind = EventKind.COVER_STARTED if away else EventKind.COVER_ENDED
    _record_cover(agent=agent, by=by, start=now, end=None, now=now, absence=None, kind=kind)
    hooks.run(hooks.availability_changed, agent=agent, start=now, end=None, now=now)
    return profile


@transaction.atomic
def agent_language_set(*, agent: User, by: User, language: str) -> AgentProfile:
    """The language of the agent's own pages, theirs alone to choose; blank: the browser's."""
    if by.pk != agent.pk:
        raise CaseRuleError(
            "not_your_profile", "Only the agent can choose the language of their pages.", status=403
        )
    if language not in StaffLanguage.values:
        raise CaseRuleError(
            "invalid_language",
            "Choose a language the pages are written in.",
            fields={"language": [f"Choose one of {', '.join(StaffLanguage.values[1:])}."]},
        )
    profile = _profile_locked(agent)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile


@transaction.atomic
def agent_deactivate(*, agent: User, by: User) -> User:
    """An agent leaves: refused (409 ``agent_owns_open_cases``, with the cases) while they
    own open cases; hand them off first. The admin and the API both deactivate through here."""
    staff = getattr(by, "is_staff", False) and by.has_perm(
        f"{agent._meta.app_label}.change_{agent._meta.model_name}"
    )
    if not (staff or (by.pk != agent.pk and may_plan_for(by, agent))):
        raise CaseRuleError(
            "not_team_manager",
            "Only a manager of the agent's team can deactivate them.",
            status=403,
        )
    user_model = type(agent)
    agent = user_model.objects.select_for_update().get(pk=agent.pk)
    refs = agent_open_case_refs(agent)
    if refs:
        raise CaseRuleError(
            "agent_owns_open_cases",
            f"{owner_contact(agent)['name']} owns {len(refs)} open case(s); hand them off first.",
            fields={"cases": refs},
            status=409,
        )
    if agent.is_active:
        agent.is_active = False
        agent.save(update_fields=["is_active"])
        AgentProfile.objects.filter(user=agent).update(accepts_new_cases=False)
    return agent


def agent_open_case_refs(agent: User) -> list[str]:
    ids = (
        Case.objects.filter(owner=agent, status__in=OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [format_ref(pk) for pk in ids]


__all__ = [
    "AbsencePlan",
    "absence_alert_if_uncovered",
    "absence_end",
    "absence_record",
    "agent_deactivate",
    "agent_open_case_refs",
    "agent_set_away",
    "may_plan_for",
]
