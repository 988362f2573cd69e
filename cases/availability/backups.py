"""Who covers whom: each agent's backup and the team's on-duty agent, set by the team's
managers (page and API alike).

While an owner is away, their backup (else the team's on-duty agent) is the customer's point
of contact and acts on the owner's cases for them (``cases.permissions.acting_for``). Both
must be active agents of the team, so that they can read the cases they cover; an agent is
never their own backup.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from caseowner.types import User
from cases.errors import CaseRuleError
from cases.models import AgentProfile, Team
from cases.permissions import is_team_manager
from cases.recipients import display_name


@dataclass(frozen=True)
class AgentCover:
    agent: User
    backup: User | None

    @property
    def name(self) -> str:
        return display_name(self.agent)


@dataclass(frozen=True)
class TeamCover:
    """A team's cover as its managers see it: the on-duty agent and every agent's backup."""

    team: Team
    on_duty: User | None
    agents: list[AgentCover]

    @property
    def candidates(self) -> list[User]:
        """Who may be named: the team's active agents, by name."""
        return [row.agent for row in self.agents if row.agent.is_active]


def _require_manager(by: User, team: Team) -> None:
    if not is_team_manager(by, team):
        raise CaseRuleError(
            "not_team_manager",
            "Only a manager of the team can set its backups and on-duty agent.",
            status=403,
        )


def _profiles(team: Team) -> list[AgentProfile]:
    return list(
        AgentProfile.objects.filter(teams=team)
        .select_related("user", "backup_agent__agent_profile")
        .order_by("display_name", "user_id")
    )


def team_cover_get(*, team: Team, by: User) -> TeamCover:
    """The team's on-duty agent and its agents' backups (two queries), for a manager."""
    _require_manager(by, team)
    profiles = _profiles(team)
    on_duty = team.on_duty if team.on_duty_id is not None else None
    return TeamCover(
        team=team,
        on_duty=on_duty,
        agents=[AgentCover(agent=p.user, backup=p.backup_agent) for p in profiles],
    )


@transaction.atomic
def team_cover_update(
    *, team: Team, by: User, on_duty: int | None, backups: dict[int, int | None]
) -> TeamCover:
    """Set the on-duty agent (None: nobody) and the backups of the agents named in
    ``backups`` ({agent id: backup id or None}); agents not named keep theirs. All or nothing:
    any invalid name refuses the whole change (400 ``invalid_cover``)."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_manager(by, team)
    profiles = {p.user_id: p for p in _profiles(team)}
    active = {pk for pk, p in profiles.items() if p.user.is_active}
    errors: dict[str, list[str]] = {}
    if on_duty is not None and on_duty not in active:
        errors["on_duty"] = ["Choose an active agent of the team."]
    for agent_id, backup_id in backups.items():
        if agent_id not in profiles:
            errors.setdefault("backups", []).append(f"#{agent_id} is not an agent of the team.")
        elif backup_id is not None and backup_id == agent_id:
            errors.setdefault("backups", []).append(
                f"{display_name(profiles[agent_id].user)} cannot be their own backup."
            )
        elif backup_id is not None and backup_id not in active:
            errors.setdefault("backups", []).append(
                f"The backup of {display_name(profiles[agent_id].user)} must be an active "
                "agent of the team."
            )
    if errors:
        raise CaseRuleError("invalid_cover", "The cover has invalid fields.", fields=errors)
    if team.on_duty_id != on_duty:
        team.on_duty_id = on_duty
        team.save(update_fields=["on_duty"])
    for agent_id, backup_id in backups.items():
        profile = profiles[agent_id]
        if profile.backup_agent_id != backup_id:
            AgentProfile.objects.filter(pk=profile.pk).update(backup_agent_id=backup_id)
    return team_cover_get(team=Team.objects.select_related("on_duty").get(pk=team.pk), by=by)


__all__ = ["AgentCover", "TeamCover", "team_cover_get", "team_cover_update"]
