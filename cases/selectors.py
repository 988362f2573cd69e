"""Reads on cases. Each list runs a fixed number of queries whatever its length."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet

from caseowner.errors import NotFoundError
from cases import hooks
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEvent,
    Handoff,
    HandoffStatus,
    parse_ref,
)
from cases.permissions import visible_cases

_PEOPLE = ("customer", "team", "owner", "owner__agent_profile")
# Columns of the joined rows no case list shows; parsing them is most of a page's cost.
_UNSHOWN = (
    "owner__password",
    "owner__last_login",
    "owner__date_joined",
    "owner__is_superuser",
    "owner__is_staff",
    "customer__created_at",
    "team__first_response_seconds",
)


def case_list(*, user: Any) -> QuerySet[Case]:
    """Cases the user may read, with the people every row shows joined in."""
    return (
        visible_cases(user).select_related(*_PEOPLE).defer(*_UNSHOWN).order_by("-created_at", "-id")
    )


def case_get(*, user: Any, ref: str, for_update: bool = False) -> Case:
    """One case by reference, or NotFoundError — also for other teams' cases, so references
    don't leak."""
    pk = parse_ref(ref)
    if pk is None:
        raise NotFoundError(f"No case {ref}.")
    qs = visible_cases(user).select_related(*_PEOPLE)
    try:
        return qs.get(pk=pk)
    except Case.DoesNotExist:
        raise NotFoundError(f"No case {ref}.") from None


def case_timeline(
    *, case: Case, limit: int = 50, before: datetime | None = None
) -> list[CaseEvent]:
    """The newest ``limit`` timeline events (paged by time, not loaded whole)."""
    qs = case.events.select_related("actor", "actor__agent_profile").order_by("-at", "-id")
    if before is not None:
        qs = qs.filter(at__lt=before)
    return list(qs[:limit])


def case_handoffs(*, case: Case, limit: int = 20) -> list[Handoff]:
    return list(
        case.handoffs.select_related(
            "from_agent__agent_profile", "to_agent__agent_profile"
        ).order_by("-offered_at")[:limit]
    )


def customer_history(*, case: Case, limit: int = 10) -> list[Case]:
    """The customer's other cases, newest first: the agent sees what was already said."""
    return list(
        Case.objects.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .select_related("owner__agent_profile", "team")
        .order_by("-created_at")[:limit]
    )


def queue_for(*, user: Any) -> QuerySet[Case]:
    """My queue: open cases I own, the next promise due first, cases without one last.

    One range scan on the partial index ``case_queue_open`` (owner, next_due_at, id).
    """
    return (
        Case.objects.filter(owner=user, status__in=OPEN_STATUSES)
        .select_related(*_PEOPLE)
        .defer(*_UNSHOWN)
        .order_by(F("next_due_at").asc(nulls_last=True), "id")
    )


def offers_waiting_for(*, user: Any) -> list[Handoff]:
    """Hand-offs offered to the user and not yet decided, oldest first."""
    return list(
        Handoff.objects.filter(to_agent=user, status=HandoffStatus.OFFERED)
        .select_related("case", "case__customer", "from_agent__agent_profile")
        .order_by("offered_at")
    )


def team_agents(*, team_id: int) -> QuerySet[AgentProfile]:
    return (
        AgentProfile.objects.filter(teams__id=team_id, user__is_active=True)
        .select_related("user")
        .order_by("display_name")
    )


def queue_flags(*, cases: list[Case], now: datetime) -> dict[int, hooks.QueueFlags]:
    """Overdue and at-risk flags for a page of the queue (API and page alike): the apps
    registered in ``hooks.queue_flags`` answer; a case none of them answers for is overdue
    when its next promise is past due."""
    answered = hooks.collect_queue_flags([c.pk for c in cases], now)
    return {
        c.pk: answered.get(c.pk)
        or hooks.QueueFlags(overdue=c.next_due_at is not None and c.next_due_at <= now)
        for c in cases
    }
