"""Reads of the satisfaction answers for agents: their own figures (the managers' figures by
week and by how a case was looked after are the reports')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q

from caseowner.types import User
from cases.models import SatisfactionHolder

AGENT_FIGURES_DAYS = 90
LOW_SCORE = 2


@dataclass(frozen=True)
class AgentSatisfaction:
    """An agent's answers over the last ``days``: the cases they closed as final owner, and
    every case they held at some point (hand-offs included)."""

    days: int
    final_answers: int
    final_mean: float | None
    held_answers: int
    held_mean: float | None
    held_low: int


def agent_satisfaction(
    *, agent: User, now: datetime, days: int = AGENT_FIGURES_DAYS
) -> AgentSatisfaction:
    """One query over the agent's rows of ``SatisfactionHolder`` (``satisfaction_holder_agent``)."""
    rows = SatisfactionHolder.objects.filter(
        agent_id=agent.pk,
        answer__score__isnull=False,
        answer__answered_at__gte=now - timedelta(days=days),
    ).aggregate(
        n_held=Count("pk"),
        held_mean=Avg("answer__score"),
        held_low=Count("pk", filter=Q(answer__score__lte=LOW_SCORE)),
        n_final=Count("pk", filter=Q(final=True)),
        final_mean=Avg("answer__score", filter=Q(final=True)),
    )

    def mean(value: float | None) -> float | None:
        return None if value is None else round(float(value), 2)

    return AgentSatisfaction(
        days=days,
        final_answers=rows["n_final"],
        final_mean=mean(rows["final_mean"]),
        held_answers=rows["n_held"],
        held_mean=mean(rows["held_mean"]),
        held_low=rows["held_low"],
    )
