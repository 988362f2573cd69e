"""The invariants of the design, checked from the database for a set of cases.

Each check returns human-readable violations (an empty list when all hold), so a race or the
state machine can count them instead of stopping at the first one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import Min

from cases.models import Case, CaseEvent, EventKind, Handoff, HandoffStatus
from commitments.models import Commitment, CommitmentStatus, PromiseEventKind, is_customer_kind
from notifications.models import DeliveryLog, Notification

_ENDED = {
    PromiseEventKind.COMMITMENT_KEPT: CommitmentStatus.KEPT,
    PromiseEventKind.COMMITMENT_RENEGOTIATED: CommitmentStatus.RENEGOTIATED,
    PromiseEventKind.COMMITMENT_WITHDRAWN: CommitmentStatus.WITHDRAWN,
    PromiseEventKind.COMMITMENT_MISSED: CommitmentStatus.MISSED,
}
_HANDOFF_ENDED = {
    EventKind.HANDOFF_ACCEPTED: HandoffStatus.ACCEPTED,
    EventKind.HANDOFF_DECLINED: HandoffStatus.DECLINED,
    EventKind.HANDOFF_CANCELLED: HandoffStatus.CANCELLED,
    EventKind.HANDOFF_EXPIRED: HandoffStatus.EXPIRED,
}


def _keys_queued(keys: Iterable[str]) -> Counter[str]:
    keys = list(keys)
    found = Counter(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    found.update(
        DeliveryLog.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    return found


def case_violations(case_id: int) -> list[str]:
    """Every invariant of one case: owner, offers, promises, timeline and notices agree."""
    problems: list[str] = []
    case = Case.objects.get(pk=case_id)
    handoffs = list(Handoff.objects.filter(case_id=case_id).order_by("decided_at", "id"))
    events = list(CaseEvent.objects.filter(case_id=case_id).order_by("at", "id"))
    commitments = list(Commitment.objects.filter(case_id=case_id))
    say = problems.append

    # Invariants 1 and 2: one owner, and every change of owner is an accepted hand-off.
    accepted = [h for h in handoffs if h.status == HandoffStatus.ACCEPTED]
    if case.owner_count != len(accepted) + 1:
        say(f"{case.ref}: owner_count {case.owner_count} != {len(accepted)} accepted + 1")
    opened = [e for e in events if e.kind == EventKind.OPENED]
    if len(opened) != 1:
        say(f"{case.ref}: {len(opened)} opened events")
    expected_owner = (
        accepted[-1].to_agent_id
        if accepted
        else (opened[0].data.get("owner_id") if opened else None)
    )
    if expected_owner is not None and case.owner_id != expected_owner:
        say(f"{case.ref}: owner {case.owner_id}, hand-offs say {expected_owner}")
    for earlier, later in zip(accepted, accepted[1:], strict=False):
        if later.from_agent_id != earlier.to_agent_id:
            say(f"{case.ref}: hand-off {later.pk} from {later.from_agent_id}, not the owner")

    # Invariant 4: at most one open offer.
    open_offers = [h for h in handoffs if h.status == HandoffStatus.OFFERED]
    if len(open_offers) > 1:
        say(f"{case.ref}: {len(open_offers)} open offers")

    # The timeline matches the hand-offs: one offered event each, one deciding event for a
    # decided one (of its status), none for one still open.
    offered = Counter(
        e.data.get("handoff_id") for e in events if e.kind == EventKind.HANDOFF_OFFERED
    )
    decided: dict[int, list[str]] = {}
    for e in events:
        if e.kind in _HANDOFF_ENDED:
            decided.setdefault(e.data.get("handoff_id"), []).append(e.kind)
    for h in handoffs:
        if offered[h.pk] != 1:
            say(f"{case.ref}: hand-off {h.pk} has {offered[h.pk]} offered events")
        kinds = decided.get(h.pk, [])
        want = (
            []
            if h.status == HandoffStatus.OFFERED
            else [k for k, s in _HANDOFF_ENDED.items() if s == h.status]
        )
        if kinds != want:
            say(f"{case.ref}: hand-off {h.pk} ({h.status}) has decision events {kinds}")
        if h.status == HandoffStatus.ACCEPTED and h.decided_at is None:
            say(f"{case.ref}: hand-off {h.pk} accepted without a time")

    # Invariant 5: every promise ends at most once, in exactly one way, and says so once.
    made = Counter(
        e.data.get("commitment_id") for e in events if e.kind == PromiseEventKind.COMMITMENT_MADE
    )
    ended: dict[int, list[str]] = {}
    for e in events:
        if e.kind in _ENDED:
            ended.setdefault(e.data.get("commitment_id"), []).append(_ENDED[e.kind])
    for c in commitments:
        if made[c.pk] != 1:
            say(f"{case.ref}: promise {c.pk} has {made[c.pk]} made events")
        ends = ended.get(c.pk, [])
        if c.status == CommitmentStatus.OPEN:
            if ends or c.ended_at is not None:
                say(f"{case.ref}: open promise {c.pk} has end events {ends}")
            if c.owner_id != case.owner_id:
                say(f"{case.ref}: open promise {c.pk} owned by {c.owner_id}, not the owner")
        elif ends != [c.status]:
            say(f"{case.ref}: promise {c.pk} ({c.status}) has end events {ends}")
        if c.status == CommitmentStatus.RENEGOTIATED and c.successor_id is None:
            say(f"{case.ref}: renegotiated promise {c.pk} has no successor")
    earliest = Commitment.objects.filter(case_id=case_id, status=CommitmentStatus.OPEN).aggregate(
        m=Min("due_at")
    )["m"]
    if case.next_due_at != earliest:
        say(f"{case.ref}: next_due_at {case.next_due_at} != earliest open {earliest}")

    # Invariant 6: the notices the changes owe were queued, each once; the owner's own
    # follow-ups (a hand-off check, a recovery call) owe the customer nothing.
    customers = [c for c in commitments if is_customer_kind(c.kind)]
    owed = [f"handoff:{h.pk}:introduction" for h in accepted]
    owed += [f"commitment:{c.pk}:missed:apology" for c in customers if c.status == "missed"]
    owed += [f"commitment:{c.pk}:renegotiated" for c in customers if c.status == "renegotiated"]
    never = [
        f"commitment:{c.pk}:{end}"
        for c in commitments
        if not is_customer_kind(c.kind)
        for end in ("missed:apology", "renegotiated")
    ]
    queued = _keys_queued(owed + never)
    problems.extend(
        f"{case.ref}: notice {key} queued {queued[key]} times" for key in owed if queued[key] != 1
    )
    problems.extend(
        f"{case.ref}: the owner's follow-up notice {key} reached the customer"
        for key in never
        if queued[key]
    )
    return problems


def violations(case_ids: Iterable[int]) -> list[str]:
    return [problem for case_id in case_ids for problem in case_violations(case_id)]
