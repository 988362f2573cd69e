"""Reads on hand-offs: a case's history, the offers waiting for an agent, the manager audit.

Every list runs a fixed number of queries whatever its length; the audit aggregates in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from caseowner.errors import NotFoundError
from caseowner.types import User
from cases.errors import CaseRuleError
from cases.models import AgentProfile, Case, Handoff, HandoffReview, HandoffStatus, Team
from cases.permissions import is_team_manager, managed_team_ids, team_ids_visible
from cases.recipients import display_name
from cases.selectors import user_by_id

_PEOPLE = (
    "from_agent__agent_profile",
    "to_agent__agent_profile",
    "offered_by__agent_profile",
)


def handoff_list_for_case(*, case: Case) -> QuerySet[Handoff]:
    """A case's hand-offs, newest first, with the people joined in."""
    return (
        Handoff.objects.filter(case=case)
        .select_related("case", *_PEOPLE)
        .order_by("-offered_at", "-id")
    )


def handoff_offers_waiting_for(*, user: Any) -> QuerySet[Handoff]:
    """Offers made to the user and not yet decided, oldest first (the queue shows them, on the
    page and in the API)."""
    return (
        Handoff.objects.filter(to_agent=user, status=HandoffStatus.OFFERED)
        .select_related("case", "case__customer", "case__team", *_PEOPLE)
        .order_by("offered_at", "id")
    )


def handoff_get(*, user: Any, handoff_id: int) -> Handoff:
    """One hand-off the user may see (its case's team, or offered to them); NotFoundError
    for everything else, so other teams' ids don't leak."""
    # the customer too: accepting one locks the case and keeps these people (one statement)
    qs = Handoff.objects.select_related("case", "case__team", "case__customer", "to_team", *_PEOPLE)
    if not getattr(user, "is_superuser", False):
        qs = qs.filter(Q(team_id__in=team_ids_visible(user)) | Q(to_agent=user))
    try:
        return qs.get(pk=handoff_id)
    except Handoff.DoesNotExist:
        raise NotFoundError(f"No hand-off {handoff_id}.") from None


# --- who may receive an offer ------------------------------------------------------------------


def handoff_receiver_teams(*, case: Case, by: User) -> QuerySet[Team]:
    """The teams that may take the case when ``by`` offers it: its own team; for a manager of
    that team also the other teams they manage; for a superuser any team."""
    if getattr(by, "is_superuser", False):
        return Team.objects.all()
    if is_team_manager(by, case.team_id):
        return Team.objects.filter(pk__in={case.team_id, *managed_team_ids(by)})
    return Team.objects.filter(pk=case.team_id)


def handoff_receiver_by_id(user_id: int) -> User:
    """The receiver an offer names by id; ``handoff_receiver_unknown`` for an unknown id."""
    return user_by_id(
        user_id,
        field="to_agent",
        code="handoff_receiver_unknown",
        message="No such agent.",
        detail="No such agent.",
        related=("agent_profile",),  # the offer checks it and names the receiver by it
    )


def handoff_team_by_id(team_id: int | None) -> Team | None:
    """The team a reassignment names by id (None: none named); ``handoff_team_unknown`` for an
    unknown id."""
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise CaseRuleError(
            "handoff_team_unknown", "No such team.", fields={"to_team": ["No such team."]}
        )
    return team


@dataclass(frozen=True)
class ReceiverChoices:
    """Whom the offer form lists: the active agents of the teams that may take the case (the
    owner left out), and those teams when there is more than the case's own."""

    agents: list[AgentProfile]
    teams: list[Team]

    @property
    def across_teams(self) -> bool:
        return len(self.teams) > 1


def agents_who_may_receive(
    team_ids: Iterable[int] | QuerySet[Any], *, besides: int, offered_by: int | None = None
) -> QuerySet[AgentProfile]:
    """Whom an offer may name among these teams: their active agents, ``besides`` (the owner,
    or the agent being covered) left out, and so is ``offered_by`` (who offers: a manager
    spreading a colleague's cases is not among her own receivers). The offer form and "cover
    for" both list from it; ``handoff_offer`` checks the same three things of the receiver."""
    return (
        AgentProfile.objects.filter(teams__in=team_ids, user__is_active=True)
        .exclude(user_id__in=[besides] if offered_by is None else [besides, offered_by])
        .distinct()
    )


def handoff_receiver_choices(*, case: Case, by: User) -> ReceiverChoices:
    """The offer form's choices, by the rule ``handoff_offer`` applies (two queries at most)."""
    teams = [case.team]
    if getattr(by, "is_superuser", False) or (
        is_team_manager(by, case.team_id) and managed_team_ids(by) - {case.team_id}
    ):
        teams = list(handoff_receiver_teams(case=case, by=by).order_by("name"))
    agents = list(
        agents_who_may_receive(
            [t.pk for t in teams], besides=case.owner_id, offered_by=by.pk
        ).order_by("display_name")
    )
    return ReceiverChoices(agents=agents, teams=teams if len(teams) > 1 else [])


@dataclass(frozen=True)
class HandoffAuditFilters:
    """The manager audit's filters; every one optional. ``offered_between`` is the instants
    [start, end) of the report period (``cases.hooks.report_day_bounds``); ``agent_id``
    matches the sender or the receiver."""

    team_id: int | None = None
    agent_id: int | None = None
    offered_between: tuple[datetime, datetime] | None = None
    flagged: bool | None = None
    score_below: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class AuditChoices:
    """What a manager may filter the audit by: (id, name) of their teams and their agents."""

    teams: list[tuple[int, str]]
    agents: list[tuple[int, str]]


def audit_choices(*, user: User) -> AuditChoices:
    """The teams the user manages (every team, for a superuser) and the agents in them."""
    teams = (
        Team.objects.all()
        if getattr(user, "is_superuser", False)
        else Team.objects.filter(pk__in=managed_team_ids(user))
    )
    team_list = list(teams.order_by("name").values_list("pk", "name"))
    agents = list(
        AgentProfile.objects.filter(teams__in=[pk for pk, _ in team_list])
        .distinct()
        .order_by("display_name")
        .values_list("user_id", "display_name")
    )
    return AuditChoices(teams=team_list, agents=agents)


def _audit_filtered(*, user: Any, filters: HandoffAuditFilters) -> QuerySet[Handoff]:
    """The hand-offs the filters select, among the teams the user manages."""
    if getattr(user, "is_superuser", False):
        qs = Handoff.objects.all()
    else:
        managed = managed_team_ids(user)
        if not managed:
            raise CaseRuleError(
                "manager_only", "Only managers can see the hand-off audit.", status=403
            )
        qs = Handoff.objects.filter(team_id__in=managed)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.agent_id is not None:
        qs = qs.filter(Q(from_agent_id=filters.agent_id) | Q(to_agent_id=filters.agent_id))
    if filters.offered_between is not None:
        start, end = filters.offered_between
        qs = qs.filter(offered_at__gte=start, offered_at__lt=end)
    if filters.flagged is True:
        qs = qs.exclude(flags=[])
    elif filters.flagged is False:
        qs = qs.filter(flags=[])
    if filters.score_below is not None:
        qs = qs.filter(quality_score__lt=filters.score_below)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


def _review_stat(expression: Any, output: Any) -> Subquery:
    """One figure over a hand-off's reviews, as a correlated subquery: no GROUP BY over the
    audit's rows, so the newest-first page stops after its rows on ``handoff_offered_at``."""
    reviews = (
        HandoffReview.objects.filter(handoff=OuterRef("pk"))
        .order_by()
        .values("handoff")
        .annotate(value=expression)
        .values("value")
    )
    return Subquery(reviews, output_field=output)


def handoff_audit_rows(*, user: Any, filters: HandoffAuditFilters) -> QuerySet[Handoff]:
    """Hand-offs of the teams the user manages, newest first, each with its reviews'
    averages computed in SQL (``review_count``, ``review_avg_*``, ``review_avg``).
    One query per page, whatever the page size."""
    floats: FloatField = FloatField()
    return (
        _audit_filtered(user=user, filters=filters)
        .select_related("case", "case__team", "case__customer", *_PEOPLE)
        .annotate(
            review_count=Coalesce(_review_stat(Count("pk"), IntegerField()), 0),
            review_avg_context=_review_stat(Avg("context_complete"), floats),
            review_avg_next_step=_review_stat(Avg("next_step_clear"), floats),
            review_avg_commitments=_review_stat(Avg("commitments_carried"), floats),
            review_avg_informed=_review_stat(Avg("customer_informed"), floats),
            review_avg=_review_stat(
                (
                    Avg("context_complete")
                    + Avg("next_step_clear")
                    + Avg("commitments_carried")
                    + Avg("customer_informed")
                )
                / 4.0,
                floats,
            ),
            case_team_id=F("team_id"),
        )
        .order_by("-offered_at", "-id")
    )


def handoff_audit_summary(*, user: Any, filters: HandoffAuditFilters) -> dict:
    """Totals over the filtered audit in one aggregate query."""
    return _audit_filtered(user=user, filters=filters).aggregate(
        total=Count("id"),
        accepted=Count("id", filter=Q(status=HandoffStatus.ACCEPTED)),
        declined=Count("id", filter=Q(status=HandoffStatus.DECLINED)),
        waiting=Count("id", filter=Q(status=HandoffStatus.OFFERED)),
        flagged=Count("id", filter=~Q(flags=[])),
        acknowledged=Count("id", filter=Q(customer_acknowledged_at__isnull=False)),
        average_score=Avg("quality_score"),
    )


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _num(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"


AUDIT_CSV_HEADER: list[str] = [
    "id",
    "case",
    "team",
    "from_agent_id",
    "from_agent",
    "to_agent_id",
    "to_agent",
    "reason",
    "status",
    "offered_at",
    "decided_at",
    "accept_minutes",
    "customer_acknowledged_at",
    "quality_score",
    "flags",
    "commitments_carried",
    "review_count",
    "review_average",
]


def handoff_audit_csv_rows(rows: Iterable[Handoff]) -> Iterator[list[str]]:
    """The audit as CSV rows (header first) from ``handoff_audit_rows``; streams."""
    yield AUDIT_CSV_HEADER
    for h in rows:
        minutes = ""
        if h.status == HandoffStatus.ACCEPTED and h.decided_at:
            minutes = str(int((h.decided_at - h.offered_at).total_seconds() // 60))
        yield [
            str(h.pk),
            h.case.ref,
            h.case.team.name,
            str(h.from_agent_id),
            display_name(h.from_agent),
            str(h.to_agent_id),
            display_name(h.to_agent),
            h.reason,
            h.status,
            _iso(h.offered_at),
            _iso(h.decided_at),
            minutes,
            _iso(h.customer_acknowledged_at),
            "" if h.quality_score is None else str(h.quality_score),
            " ".join(h.flags or []),
            str(len(h.briefed_commitments or [])),
            str(getattr(h, "review_count", 0)),
            _num(getattr(h, "review_avg", None)),
        ]


def handoff_offers_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of waiting offers whose reminder or escalation is due (two indexed range scans)."""
    now = now or timezone.now()
    base = Handoff.objects.filter(status=HandoffStatus.OFFERED)
    remind = base.filter(reminded_at__isnull=True, remind_at__lte=now).order_by("remind_at")
    escalate = base.filter(escalated_at__isnull=True, escalate_at__lte=now).order_by("escalate_at")
    ids = set(remind.values_list("pk", flat=True)[:limit])
    ids.update(escalate.values_list("pk", flat=True)[:limit])
    return sorted(ids)
