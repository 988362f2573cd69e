"""A manager's "cover for": every open case of an agent who is suddenly away, offered to
agents who are present, in one step.

Each case becomes a normal hand-off offer (``handoff_offer``'s rules, all cases at once in
``handoff_offer_many``: a manager's reassignment) with its own summary through the gate, so
nothing changes owner until a receiver accepts: no case is ever without its owner. The
manager starts from drafts the system fills in (the open promises, the latest timeline
entries) and completes them.

Summaries are shared parts plus per-case parts, joined field by field. What the customer
needs and the next step are each customer's own: a case without its own words there is
refused, so a shared paragraph cannot pass the gate for thirty customers at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import dateformat
from django.utils.translation import gettext

from caseowner.types import User
from cases import hooks
from cases.availability.hours import agent_away
from cases.errors import CaseRuleError
from cases.handoffs.gate import (
    SUMMARY_FIELDS,
    GateResult,
    HandoffSummary,
    handoff_summary_check,
)
from cases.handoffs.offer_many import Offer, handoff_offer_many, previous_summaries
from cases.handoffs.selectors import agents_who_may_receive
from cases.locking import lock_cases
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEvent,
    Handoff,
    HandoffReason,
    HandoffStatus,
    format_ref,
)
from cases.permissions import is_team_manager
from cases.recipients import display_name
from notifications.localtime import local_time_text, reader_zone
from notifications.services import outbox_batch

# Summary fields that must carry words of the case's own (a shared part alone is refused).
OWN_FIELDS: tuple[str, ...] = ("customer_needs", "next_step")
# Timeline entries a draft quotes.
DRAFT_EVENTS = 3


@dataclass(frozen=True)
class CoverDraft:
    """What the system knows of one case, as a starting point for its summary."""

    case: Case
    promises: list[hooks.DuePromise]
    recent: list[str]
    customer_expectations: str
    actions_taken: str


def cover_drafts(*, agent: User, cases: list[Case] | None = None) -> list[CoverDraft]:
    """The agent's open cases without an open offer, earliest promise first, each with a
    draft: open promises by number (so the gate sees each one briefed) and the latest
    timeline entries. One query for the cases (none when the caller read them, with their
    customer and team), one for the promises, one for the latest entries of every case."""
    if cases is None:
        cases = list(
            Case.objects.filter(owner=agent, status__in=OPEN_STATUSES)
            .exclude(handoffs__status=HandoffStatus.OFFERED)
            .select_related("customer", "team")
            .order_by("next_due_at", "id")
        )
    everything = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    promises: dict[int, list[hooks.DuePromise]] = {}
    for promise in hooks.collect_promises_due(agent.pk, *everything):
        promises.setdefault(promise.case_id, []).append(promise)
    latest = _latest_events([c.pk for c in cases])
    drafts = []
    for case in cases:
        # in the team's zone, as the receivers and the page read it
        zone = reader_zone(case.team.time_zone)
        events = latest.get(case.pk, [])
        recent = [
            dateformat.format(e.at.astimezone(zone), "d M H:i")
            + f" {hooks.event_kind_label(e.kind)}"
            + (f": {e.data['text']}" if isinstance(e.data.get("text"), str) else "")
            for e in events
        ]
        own = promises.get(case.pk, [])
        drafts.append(
            CoverDraft(
                case=case,
                promises=own,
                recent=recent,
                customer_expectations="\n".join(
                    f"#{p.id} "
                    + gettext("%(promise)s (due %(due)s)")
                    % {"promise": p.description, "due": local_time_text(p.due_at, zone.key)}
                    for p in own
                ),
                actions_taken=gettext("Latest on the timeline: ") + "; ".join(recent)
                if recent
                else "",
            )
        )
    return drafts


def _latest_events(case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    """The latest ``DRAFT_EVENTS`` timeline entries of each case, in one query (a row number
    over each case's entries, newest first, on the ``(case, -at, -id)`` index)."""
    if not case_ids:
        return {}
    rows = (
        CaseEvent.objects.filter(case_id__in=case_ids)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("case_id")], order_by=[F("at").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=DRAFT_EVENTS)
        .order_by("case_id", "rank")
    )
    latest: dict[int, list[CaseEvent]] = {}
    for event in rows:
        latest.setdefault(event.case_id, []).append(event)
    return latest


@dataclass(frozen=True)
class CoverReceiver:
    """An agent present now who may take cases: a choice on the "cover for" page."""

    user_id: int
    name: str
    open_cases: int


def cover_receivers(*, agent: User, by: User, at: datetime) -> list[CoverReceiver]:
    """Active agents of the teams ``by`` manages among ``agent``'s (any of them for a
    superuser), not ``agent``, not away at ``at``; fewest open cases first. One query."""
    teams = AgentProfile.teams.through.objects.filter(agentprofile__user=agent).values("team_id")
    if not getattr(by, "is_superuser", False):
        teams = teams.filter(team__managers=by)
    profiles = (
        agents_who_may_receive(teams, besides=agent.pk, offered_by=by.pk)
        .exclude(away_since__lte=at)
        .exclude(user__absences__starts_at__lte=at, user__absences__ends_at__gt=at)
        .select_related("user")
        .annotate(
            open_cases=Count(
                "user__owned_cases",
                filter=Q(user__owned_cases__status__in=OPEN_STATUSES),
                distinct=True,
            )
        )
    )
    receivers = [
        CoverReceiver(user_id=p.user_id, name=display_name(p.user), open_cases=p.open_cases)
        for p in profiles
    ]
    return sorted(receivers, key=lambda r: (r.open_cases, r.name, r.user_id))


@dataclass(frozen=True)
class CoverCase:
    """One case of a "cover for": its receiver (None: spread by the rule) and its own
    summary parts, and the promises ticked as briefed."""

    case_id: int
    to_agent_id: int | None = None
    customer_needs: str = ""
    actions_taken: str = ""
    customer_expectations: str = ""
    next_step: str = ""
    briefed_commitments: tuple[int, ...] = ()


@dataclass(frozen=True)
class CoverRequest:
    cases: list[CoverCase]
    # Who may receive cases spread by the rule (fewest open cases first).
    receivers: list[int] = field(default_factory=list)
    # Text shared by every case for ``actions_taken`` and ``customer_expectations``.
    shared: dict[str, str] = field(default_factory=dict)


def _compose(shared: dict[str, str], item: CoverCase) -> HandoffSummary:
    parts = {
        name: "\n\n".join(
            p for p in (shared.get(name, "").strip(), getattr(item, name).strip()) if p
        )
        for name in SUMMARY_FIELDS
    }
    return HandoffSummary(**parts)


def _receivers(*, ids: set[int], agent: User, now: datetime) -> dict[int, Any]:
    profiles = (
        AgentProfile.objects.filter(user_id__in=ids, user__is_active=True)
        .select_related("user", "backup_agent")
        .annotate(
            open_cases=Count(
                "user__owned_cases", filter=Q(user__owned_cases__status__in=OPEN_STATUSES)
            )
        )
    )
    found = {p.user_id: p for p in profiles}
    errors: dict[str, list[str]] = {}
    for user_id in sorted(ids):
        profile = found.get(user_id)
        if profile is None or user_id == agent.pk:
            errors.setdefault("receivers", []).append(f"{user_id}: not an active agent.")
        elif agent_away(profile.user, now):
            errors.setdefault("receivers", []).append(
                f"{user_id}: {profile.display_name} is away; choose someone present."
            )
    if errors:
        raise CaseRuleError(
            "cover_receiver_unavailable", "A receiver cannot take cases.", fields=errors
        )
    return found


@outbox_batch()
def cover_for(
    *, agent: User, by: User, request: CoverRequest, now: datetime | None = None
) -> list[Handoff]:
    """Offer every open case of ``agent`` (without an open offer) to present agents, each
    as a manager's reassignment with its own summary through the gate; all or nothing."""
    from django.utils import timezone

    now = now or timezone.now()
    # Locked before anything is checked, so every check and brief holds until the commit.
    ids = Case.objects.filter(owner=agent, status__in=OPEN_STATUSES).exclude(
        handoffs__status=HandoffStatus.OFFERED
    )
    open_cases = {
        pk: case
        for pk, case in lock_cases(list(ids.values_list("pk", flat=True))).items()
        if case.owner_id == agent.pk and case.status in OPEN_STATUSES
    }
    if not all(is_team_manager(by, c.team_id) for c in open_cases.values()) or not (
        open_cases or is_team_manager(by, _any_team_id(agent))
    ):
        raise CaseRuleError(
            "not_team_manager",
            "Only a manager of the agent's teams can cover for them.",
            status=403,
        )
    errors: dict[str, list[str]] = {}
    items = {item.case_id: item for item in request.cases}
    for name in OWN_FIELDS:
        if request.shared.get(name, "").strip():
            errors[f"shared.{name}"] = ["Each case needs its own words here; it cannot be shared."]
    for case_id in sorted(set(items) - set(open_cases)):
        errors[f"{format_ref(case_id)}"] = ["Not an open case of this agent without an offer."]
    for case_id in sorted(set(open_cases) - set(items)):
        errors[f"{format_ref(case_id)}"] = ["Every open case needs its summary."]
    wanted = set(request.receivers) | {i.to_agent_id for i in items.values() if i.to_agent_id}
    if not request.receivers and any(i.to_agent_id is None for i in items.values()):
        errors["receivers"] = ["Name the receivers to spread the cases over, or one per case."]
    if errors:
        raise CaseRuleError("cover_invalid", "The cover cannot be offered as it is.", fields=errors)
    receivers = _receivers(ids=wanted, agent=agent, now=now)
    summaries: dict[int, HandoffSummary] = {}
    gates: dict[int, GateResult] = {}
    briefs = hooks.collect_open_commitments_many(list(open_cases.values()))
    previous = previous_summaries(list(open_cases.values()))
    for case_id, item in sorted(items.items()):
        summary = _compose(request.shared, item)
        gate = gates[case_id] = handoff_summary_check(
            summary=summary,
            open_commitments=briefs[case_id],
            briefed_ids=list(item.briefed_commitments),
            previous=previous.get(case_id),
        )
        ref = format_ref(case_id)
        for name in OWN_FIELDS:
            if not getattr(item, name).strip():
                gate.errors.setdefault(name, []).append("Write this case's own words here.")
        for name, messages in gate.errors.items():
            errors[f"{ref}.{name}"] = messages
        summaries[case_id] = summary
    if errors:
        raise CaseRuleError(
            "handoff_summary_incomplete",
            "Some summaries are incomplete: the next owners would have to ask the customers again.",
            fields=errors,
        )
    load = {user_id: p.open_cases for user_id, p in receivers.items()}
    pool = sorted(request.receivers)
    offers = []
    for case in sorted(
        open_cases.values(), key=lambda c: (c.next_due_at is None, c.next_due_at, c.pk)
    ):
        item = items[case.pk]
        to_id = item.to_agent_id or min(pool, key=lambda u: (load[u], u))
        load[to_id] += 1
        offers.append(
            Offer(
                case=case,
                to=receivers[to_id].user,
                summary=summaries[case.pk],
                briefed_commitments=list(item.briefed_commitments),
                open_commitments=briefs[case.pk],
                gate=gates[case.pk],
            )
        )
    # every case's offer in a few statements for all (``handoff_offer``'s rules, each case)
    return handoff_offer_many(offers=offers, by=by, reason=HandoffReason.MANAGER_REASSIGNMENT)


def _any_team_id(agent: User) -> int:
    team_id = (
        AgentProfile.teams.through.objects.filter(agentprofile__user=agent)
        .values_list("team_id", flat=True)
        .first()
    )
    return team_id or 0


def cover_receiver_names(handoffs: list[Handoff]) -> dict[str, str]:
    """{case ref: receiver's name} for the page's confirmation."""
    return {h.case.ref: display_name(h.to_agent) for h in handoffs}


__all__ = [
    "CoverCase",
    "CoverDraft",
    "CoverReceiver",
    "CoverRequest",
    "cover_drafts",
    "cover_for",
    "cover_receivers",
]
