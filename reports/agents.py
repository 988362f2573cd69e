"""A team's agents side by side: open cases, promises, hand-offs sent and received."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Avg,
    Count,
    OuterRef,
)

from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Handoff,
    HandoffStatus,
    Team,
)
from cases.models import Case as CaseRow
from commitments.models import CommitmentStatus
from reports.period import Window
from reports.promises import PROMISE_COUNTS, PromiseFigures, ended_promises, promise_aggregates
from reports.sql import count_of

OPEN = CommitmentStatus.OPEN


# --- agents --------------------------------------------------------------------------------------


@dataclass
class AgentFigures:
    agent_id: int
    name: str
    open_cases: int = 0
    offers_waiting: int = 0
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    sent: int = 0
    sent_score: float | None = None
    received: int = 0
    received_score: float | None = None

    def as_dict(self) -> dict:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "open_cases": self.open_cases,
            **self.promises.as_dict(),
            "handoffs_sent": self.sent,
            "handoffs_sent_score_avg": self.sent_score,
            "handoffs_received": self.received,
            "handoffs_received_score_avg": self.received_score,
            "offers_waiting": self.offers_waiting,
        }


AGENT_COLUMNS = (
    "agent_id",
    "name",
    "open_cases",
    *PROMISE_COUNTS,
    "decided",
    "kept_on_time_rate",
    "proactive_rate",
    "missed_rate",
    "handoffs_sent",
    "handoffs_sent_score_avg",
    "handoffs_received",
    "handoffs_received_score_avg",
    "offers_waiting",
)


def _score(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def team_agents(*, team: Team, window: Window) -> list[AgentFigures]:
    """Each agent of the team (and anyone else credited in the period) side by side, by
    name; four queries. A promise counts for its owner when it ended; hand-offs for the
    sender and the receiver; open cases (the agent's whole queue) and offers waiting for
    them in this team are as of now."""
    start, end = window.bounds()
    members = (
        AgentProfile.objects.filter(teams=team)
        .annotate(
            # the agent's whole queue (any team): the partial index ``case_queue_open``
            n_open=count_of(
                CaseRow.objects.filter(owner=OuterRef("user_id"), status__in=OPEN_STATUSES)
            ),
            n_waiting=count_of(
                Handoff.objects.filter(
                    to_agent=OuterRef("user_id"), team=team, status=HandoffStatus.OFFERED
                )
            ),
        )
        .values("user_id", "display_name", "n_open", "n_waiting")
    )
    agents: dict[int, AgentFigures] = {}
    for m in members:
        agents[m["user_id"]] = AgentFigures(
            agent_id=m["user_id"],
            name=m["display_name"],
            open_cases=m["n_open"],
            offers_waiting=m["n_waiting"],
        )

    def agent(pk: int, name: str | None) -> AgentFigures:
        return agents.setdefault(pk, AgentFigures(agent_id=pk, name=name or f"#{pk}"))

    promise_rows = (
        ended_promises(team=team, window=window)
        .values("owner_id", "owner__agent_profile__display_name")
        .annotate(**promise_aggregates())
        .order_by()
    )
    for row in promise_rows:
        agent(row["owner_id"], row["owner__agent_profile__display_name"]).promises.add(row)
    handoffs = Handoff.objects.filter(team_id=team.pk, offered_at__gte=start, offered_at__lt=end)
    for side in ("from_agent", "to_agent"):
        rows = (
            handoffs.values(f"{side}_id", f"{side}__agent_profile__display_name")
            .annotate(n=Count("pk"), score=Avg("quality_score"))
            .order_by()
        )
        for row in rows:
            a = agent(row[f"{side}_id"], row[f"{side}__agent_profile__display_name"])
            if side == "from_agent":
                a.sent, a.sent_score = row["n"], _score(row["score"])
            else:
                a.received, a.received_score = row["n"], _score(row["score"])
    return sorted(agents.values(), key=lambda a: (a.name.lower(), a.agent_id))


def sort_agents(agents: Iterable[AgentFigures], key: str) -> list[AgentFigures]:
    """Sort by one of ``AGENT_COLUMNS`` (``-`` first for descending); blanks last."""
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name not in AGENT_COLUMNS:
        name, descending = "name", False
    rows = [(a, a.as_dict()[name]) for a in agents]
    present = [r for r in rows if r[1] is not None]
    blank = [r[0] for r in rows if r[1] is None]

    def order(item: tuple[AgentFigures, Any]) -> Any:
        value = item[1]
        return value.lower() if isinstance(value, str) else value

    present.sort(key=order, reverse=descending)
    return [a for a, _ in present] + blank
