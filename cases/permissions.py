"""Who may see and change what. Every object check goes through here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.availability.hours import owner_cover
from cases.models import Case, Customer, Team


def _team_rows(user: Any) -> dict[int, tuple[str, str]]:
    """{team id: (time zone, phone region)} of the teams the user works in or manages; one
    query, cached on the user object for the request."""
    cached = getattr(user, "_caseowner_team_rows", None)
    if cached is None:
        cached = {
            pk: (tz, region)
            for pk, tz, region in Team.objects.filter(Q(agents__user=user) | Q(managers=user))
            .values_list("id", "time_zone", "phone_region")
            .distinct()
        }
        user._caseowner_team_rows = cached
    return cached


def remember_team_rows(user: Any, rows: dict[int, tuple[str, str]]) -> None:
    """A caller that has just read every team the user works in or manages hands over
    {team id: (time zone, phone region)}, so ``_team_rows`` answers from it for the request."""
    if user.is_authenticated:
        user._caseowner_team_rows = dict(rows)


def _visible_teams(user: Any) -> dict[int, str]:
    """{team id: time zone} of the teams the user works in or manages (cached, one query)."""
    return {pk: tz for pk, (tz, _) in _team_rows(user).items()}


def phone_region_for(user: Any) -> str:
    """Where the user types phone numbers without a country code: their (first) team's
    region, else ``PHONE_DEFAULT_REGION``."""
    rows = _team_rows(user) if getattr(user, "is_authenticated", False) else {}
    return rows[min(rows)][1] if rows else settings.PHONE_DEFAULT_REGION


def team_ids_visible(user: Any) -> set[int]:
    """Teams whose cases the user may read: the teams they work in or manage."""
    if not user.is_authenticated:
        return set()
    return set(_visible_teams(user))


def first_team_time_zone(user: Any) -> str | None:
    """The time zone of the user's first team (by id), for showing them local times."""
    if not user.is_authenticated:
        return None
    teams = _visible_teams(user)
    return teams[min(teams)] if teams else None


def managed_team_ids(user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_caseowner_managed_ids", None)
    if cached is None:
        cached = set(user.managed_teams.values_list("id", flat=True))
        user._caseowner_managed_ids = cached
    return cached


def remember_managed_team_ids(user: Any, team_ids: set[int]) -> None:
    """A caller that has just read every team the user manages hands the set over, so that
    ``managed_team_ids`` answers from it for the rest of the request (the navigation asks
    again) instead of querying once more."""
    if user.is_authenticated:
        user._caseowner_managed_ids = set(team_ids)


def visible_cases(user: Any) -> QuerySet[Case]:
    if getattr(user, "is_superuser", False):
        return Case.objects.all()
    return Case.objects.filter(team_id__in=team_ids_visible(user))


def is_team_member(user: Any, team: Team) -> bool:
    return Team.objects.filter(pk=team.pk, agents__user=user).exists()


def is_team_manager(user: Any, team: Team | int) -> bool:
    team_id = team if isinstance(team, int) else team.pk
    return getattr(user, "is_superuser", False) or team_id in managed_team_ids(user)


def acting_for(user: Any, case: Case, *, at: datetime | None = None) -> Any | None:
    """The owner ``user`` acts for on ``case`` at ``at`` (default now): the owner themselves,
    or the owner while ``user`` is their cover (the owner is away and ``user`` is their backup,
    else the team's on-duty agent: ``owner_cover``); None for anyone else.

    A cover acts on the owner's behalf (keeps and renegotiates promises, replies, records
    contacts, offers a hand-off) while the owner stays the owner: the timeline records the
    cover as the actor and the owner as ``on_behalf_of``. Only someone who could cover at all
    (the owner's backup or the team's on-duty agent, read with the case) costs queries."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if case.owner_id == user.pk:
        return case.owner
    profile = getattr(case.owner, "agent_profile", None)
    might_cover = (profile is not None and profile.backup_agent_id == user.pk) or (
        case.team.on_duty_id == user.pk
    )
    if not might_cover:
        return None
    cover = owner_cover(owner=case.owner, team=case.team, at=at or timezone.now())
    return case.owner if cover is not None and cover.agent.pk == user.pk else None


def covering_for(user: Any, case: Case, *, at: datetime | None = None) -> Any | None:
    """The absent owner ``user`` acts for as their cover (None: ``user`` is the owner, or
    does not cover): what the timeline records as ``on_behalf_of``."""
    if user is None or case.owner_id == getattr(user, "pk", None):
        return None
    return acting_for(user, case, at=at)


def can_act_on_case(user: Any, case: Case) -> bool:
    """Whether ``user`` may act on ``case`` as its owner: the owner, or their cover now."""
    return acting_for(user, case) is not None


def can_change_case(user: Any, case: Case) -> bool:
    """The owner (or, while the owner is away, their cover) changes the case; a manager of its
    team changes any of the team's cases."""
    if case.owner_id == user.pk or is_team_manager(user, case.team_id):
        return True
    return can_act_on_case(user, case)


def manages_any_team(user: Any) -> bool:
    """Whether the user may see the hand-off audit: a manager of some team, or a superuser."""
    return getattr(user, "is_superuser", False) or bool(managed_team_ids(user))


def customers_organisation_wide() -> bool:
    """``CUSTOMER_VISIBILITY``: "organisation" (default, the 360-degree view: every agent sees
    every customer and their earlier cases' subjects) or "team" (only customers with a case
    in one of the agent's teams, and only those teams' cases)."""
    return settings.CUSTOMER_VISIBILITY == "organisation"


def visible_customers(user: Any) -> QuerySet[Customer]:
    """Customers the user may find, read and pick at intake, by ``CUSTOMER_VISIBILITY``."""
    if getattr(user, "is_superuser", False) or customers_organisation_wide():
        return Customer.objects.all()
    return Customer.objects.filter(
        pk__in=Case.objects.filter(team_id__in=team_ids_visible(user)).values("customer_id")
    )


def can_edit_customer(user: Any, customer: Customer) -> bool:
    """Agents (and managers) of a team with a case of the customer correct their details."""
    if getattr(user, "is_superuser", False):
        return True
    return Case.objects.filter(customer_id=customer.pk, team_id__in=team_ids_visible(user)).exists()
