"""Reads of the satisfaction answers for agents: their own figures (the managers' figures by
week and by how a case was looked after are the reports'); and the question as the customer's
own case page shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q

from caseowner.types import User
from cases.models import Case, CaseStatus, SatisfactionAnswer, SatisfactionHolder
from cases.recipients import display_name
from cases.satisfaction.services import ANSWER_CHANGE_WINDOW, answer_closed_reason, answer_token

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


@dataclass(frozen=True)
class CustomerQuestion:
    """The question on a closed case's customer page: "Did {owner} take care of this for
    you?", its answer when given, and the answer page's link while it may still be used."""

    owner_name: str
    score: int | None
    # the answer page's token; None: the question closed, or the answer is final
    token: str | None
    change_until: datetime | None


def customer_question(*, case: Case, now: datetime) -> CustomerQuestion | None:
    """The closed case's question (None for any other case, without a query; None when none
    was asked: closed as spam or duplicate, an erased customer, no route). One query."""
    if case.status != CaseStatus.CLOSED:
        return None
    answer = (
        SatisfactionAnswer.objects.select_related("final_owner__agent_profile")
        .filter(case_id=case.pk)
        .first()
    )
    if answer is None:
        return None
    open_ = not answer_closed_reason(answer, now)
    return CustomerQuestion(
        owner_name=display_name(answer.final_owner),
        score=answer.score,
        token=answer_token(answer.pk) if open_ else None,
        change_until=(
            answer.first_answered_at + ANSWER_CHANGE_WINDOW
            if answer.first_answered_at is not None and open_
            else None
        ),
    )
