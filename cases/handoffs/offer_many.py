"""``handoff_offer`` for many cases of one owner at once (a manager's "cover for"): the same
rules checked on every case, each step one statement for all of them rather than one per
case. The caller holds the transaction (an ``outbox_batch``) and has locked the cases
(``cases.locking.lock_cases``): the receivers are told in the batch's one write, and the
timeline events' webhooks with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from caseowner.text import SUMMARY_MAX, require_clean_text
from caseowner.types import User
from cases import hooks
from cases.errors import CaseRuleError
from cases.events import case_event_webhooks
from cases.handoffs.gate import (
    FLAG_BACK_TO_PREVIOUS_OWNER,
    FLAG_FOURTH_OWNER,
    PING_PONG_OWNER_COUNT,
    PING_PONG_WINDOW,
    SUMMARY_FIELDS,
    GateResult,
    HandoffSummary,
    handoff_summary_check,
)
from cases.handoffs.services import _already_open, _receiver_team, _tell_receiver
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEvent,
    EventKind,
    Handoff,
    HandoffReason,
    HandoffStatus,
    Team,
)
from cases.permissions import can_change_case, covering_for
from cases.recipients import display_name


@dataclass(frozen=True)
class Offer:
    """One case's offer: to whom, with which summary and promises briefed."""

    case: Case  # locked, with its customer, team and owner
    to: User
    summary: HandoffSummary
    briefed_commitments: list[int]
    # the case's open promises, read under its lock (``hooks.collect_open_commitments``)
    open_commitments: list[hooks.PromiseBrief]
    # the gate's answer when the caller asked it with the same promises under the same lock
    # and the case's previous summary (``previous_summaries``): it is not asked again
    gate: GateResult | None = None


def previous_summaries(cases: list[Case]) -> dict[int, HandoffSummary]:
    """``handoff_previous_summary`` of every case that changed owner before, in one query."""
    ids = [c.pk for c in cases if c.owner_count > 1]
    if not ids:
        return {}
    found: dict[int, HandoffSummary] = {}
    rows = (
        Handoff.objects.filter(case_id__in=ids, status=HandoffStatus.ACCEPTED)
        .order_by("case_id", "-decided_at", "-pk")
        .values("case_id", *SUMMARY_FIELDS)
    )
    for row in rows:
        case_id = row.pop("case_id")
        found.setdefault(case_id, HandoffSummary.of(row))
    return found


def handoff_offer_many(*, offers: list[Offer], by: User, reason: str) -> list[Handoff]:
    """Offer every case as ``handoff_offer`` would, or none (a refusal names the case)."""
    if reason not in HandoffReason.values:
        raise CaseRuleError("invalid_handoff_reason", f"Unknown reason {reason!r}.")
    if not offers:
        return []
    now = timezone.now()
    cases = [o.case for o in offers]
    receivers = {o.to.pk: o.to for o in offers}
    agents = set(
        AgentProfile.objects.filter(user_id__in=list(receivers)).values_list("user_id", flat=True)
    )
    offered = set(
        Handoff.objects.filter(
            case_id__in=[c.pk for c in cases], status=HandoffStatus.OFFERED
        ).values_list("case_id", flat=True)
    )
    previous = previous_summaries([o.case for o in offers if o.gate is None])
    recent = set(
        Handoff.objects.filter(
            case_id__in=[c.pk for c in cases],
            status=HandoffStatus.ACCEPTED,
            decided_at__gte=now - PING_PONG_WINDOW,
        )
        .filter(Q(from_agent_id__in=list(receivers)))
        .values_list("case_id", "from_agent_id")
    )
    target_teams: dict[tuple[int, int], Team | None] = {}
    times: dict[int, tuple[datetime, datetime]] = {}
    on_behalf: dict[tuple[int, int], User | None] = {}
    built: list[tuple[Offer, Handoff]] = []
    for offer in offers:
        case, to = offer.case, offer.to
        summary = offer.summary
        require_clean_text(
            {name: (getattr(summary, name) or "", SUMMARY_MAX, True) for name in SUMMARY_FIELDS}
        )
        where = {"case": [case.ref]}
        if not can_change_case(by, case):
            raise CaseRuleError(
                "handoff_not_allowed",
                "Only a manager of its team can offer it.",
                status=403,
                fields=where,
            )
        if case.status not in OPEN_STATUSES:
            raise CaseRuleError(
                "case_not_open", "Only an open case can be handed off.", status=409, fields=where
            )
        if to.pk == case.owner_id or not to.is_active or to.pk not in agents:
            raise CaseRuleError(
                "handoff_receiver_unavailable",
                "The receiver cannot take this case.",
                fields={"to_agent": [f"{display_name(to)} cannot take {case.ref}."]},
            )
        if case.pk in offered:
            raise _already_open()
        pair = (to.pk, case.team_id)
        if pair not in target_teams:
            target_teams[pair] = _receiver_team(case=case, by=by, to=to, to_team=None)
        gate = offer.gate or handoff_summary_check(
            summary=offer.summary,
            open_commitments=offer.open_commitments,
            briefed_ids=list(offer.briefed_commitments),
            previous=previous.get(case.pk),
        )
        if not gate.passed:
            raise CaseRuleError(gate.code, gate.message, fields=gate.errors)
        summary = offer.summary.cleaned()
        if case.team_id not in times:
            wait = timedelta(minutes=case.team.handoff_accept_minutes)
            remind_at = hooks.add_business_time(case.team, now, wait)
            times[case.team_id] = (remind_at, hooks.add_business_time(case.team, remind_at, wait))
        flags = []
        if (case.pk, to.pk) in recent:
            flags.append(FLAG_BACK_TO_PREVIOUS_OWNER)
        if case.owner_count + 1 >= PING_PONG_OWNER_COUNT:
            flags.append(FLAG_FOURTH_OWNER)
        handoff = Handoff(
            case=case,
            team_id=case.team_id,
            from_agent=case.owner,
            to_agent=to,
            offered_by=by,
            to_team=target_teams[pair],
            reason=reason,
            customer_needs=summary.customer_needs,
            actions_taken=summary.actions_taken,
            customer_expectations=summary.customer_expectations,
            next_step=summary.next_step,
            briefed_commitments=gate.commitments,
            offered_at=now,
            flags=flags,
            remind_at=times[case.team_id][0],
            escalate_at=times[case.team_id][1],
        )
        built.append((offer, handoff))
    handoffs = Handoff.objects.bulk_create([h for _, h in built])
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(updated_at=now)
    events = []
    for offer, handoff in built:
        case = offer.case
        case.updated_at = now
        key = (case.owner_id or 0, case.team_id)
        if key not in on_behalf:
            on_behalf[key] = covering_for(by, case)
        owner = on_behalf[key]
        data = {
            "handoff_id": handoff.pk,
            "from_agent_id": case.owner_id,
            "to_agent_id": offer.to.pk,
            "reason": reason,
            "flags": handoff.flags,
            **({"to_team_id": handoff.to_team_id} if handoff.to_team_id else {}),
            **(
                {"on_behalf_of": owner.pk, "on_behalf_of_name": display_name(owner)}
                if owner is not None
                else {}
            ),
        }
        events.append(
            CaseEvent(case=case, kind=EventKind.HANDOFF_OFFERED, actor=by, data=data, at=now)
        )
    for event in CaseEvent.objects.bulk_create(events):
        case_event_webhooks(event)
    for offer, handoff in built:
        _tell_receiver(handoff, case=offer.case, template="handoff_offered", by=by)
    return handoffs
