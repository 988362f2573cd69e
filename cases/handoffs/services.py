"""Writes on hand-offs that a person asks for: offer, accept, decline, cancel. Each function
is one transaction and records its timeline event; locks follow ``cases.locking`` (the case
row, then the hand-off row), so two of them racing on one offer take turns and the second
sees the first one's outcome.

What follows a decided hand-off (a manager's review, the customer's acknowledgement) lives in
``cases.handoffs.outcomes``; the summary gate, the rubric and the score in
``cases.handoffs.gate``; the waiting-offer sweep and the handlers other apps call in
``cases.handoffs.sweep``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from caseowner.errors import NotFoundError
from caseowner.text import REASON_MAX, SUMMARY_MAX, require_clean_text
from caseowner.types import User
from cases import hooks
from cases.errors import CaseRuleError
from cases.handoffs.gate import (
    SUMMARY_FIELDS,
    HandoffSummary,
    handoff_offer_flags,
    handoff_previous_summary,
    handoff_quality_score,
    handoff_recently_owned,
    handoff_summary_check,
)
from cases.handoffs.selectors import handoff_receiver_teams
from cases.handoffs.sweep import offer_end
from cases.locking import (
    lend_people,
    lock_case,
    lock_handoff,
    lock_with_case,
)
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    EventKind,
    Handoff,
    HandoffReason,
    HandoffStatus,
    Team,
)
from cases.notices import customer_context, customer_notice_enqueue, local_time_text, staff_case_url
from cases.permissions import can_change_case, is_team_manager, is_team_member
from cases.recipients import agent_recipient, display_name, owner_contact
from cases.selectors import lock_visible_case
from cases.services import case_event_record
from notifications.services import notification_enqueue, outbox_batch
from notifications.webhooks import webhook_emit


def _locked_pair(handoff: Handoff) -> tuple[Case, Handoff]:
    """The case, then the hand-off, locked; each lock reads its row in the same statement
    and keeps the people the caller read with ``handoff`` where they are still the same."""
    if Handoff._meta.get_field("case").is_cached(handoff):  # type: ignore[union-attr]
        # both in one statement, the case first (``lock_with_case``)
        locked = lock_with_case(Handoff, handoff.pk, case=handoff.case)
        if locked is None:  # pragma: no cover - rows are never deleted (PROTECT)
            raise NotFoundError("No such hand-off.")
        lend_people(locked, handoff, ("from_agent", "to_agent", "offered_by", "to_team"))
        case = locked.case
    else:
        found = lock_case(handoff.case_id)
        locked = lock_handoff(handoff.pk, read=handoff)
        if found is None or locked is None:  # pragma: no cover - rows are never deleted
            raise NotFoundError("No such hand-off.")
        case = locked.case = found
    owner = Case._meta.get_field("owner")
    if not owner.is_cached(case) and case.owner_id == locked.from_agent_id:  # type: ignore[union-attr]
        case.owner = locked.from_agent  # an open offer's sender owns the case: read with it
    return case, locked


def _require_open_offer(handoff: Handoff) -> None:
    if handoff.status != HandoffStatus.OFFERED:
        raise CaseRuleError(
            "handoff_not_open",
            f"This hand-off is already {handoff.get_status_display().lower()}.",
            status=409,
        )


def _already_open() -> CaseRuleError:
    return CaseRuleError(
        "handoff_already_open",
        "This case already has an open hand-off offer; cancel it first.",
        status=409,
    )


def _receiver_team(*, case: Case, by: User, to: User, to_team: Team | None) -> Team | None:
    """The team the case moves to on acceptance (None: it stays in its team). The receiver
    must be an agent of one of ``handoff_receiver_teams`` (the rule the offer form lists)."""
    in_case_team = is_team_member(to, case.team)
    if to_team is None and in_case_team:
        return None
    if to_team is not None and to_team.pk == case.team_id:
        if not in_case_team:
            raise CaseRuleError(
                "handoff_receiver_not_in_team",
                "The receiver is not an agent of the case's team.",
                fields={"to_agent": ["Not an agent of this case's team."]},
            )
        return None
    other_teams = handoff_receiver_teams(case=case, by=by).exclude(pk=case.team_id)
    if not is_team_manager(by, case.team_id):
        raise CaseRuleError(
            "handoff_receiver_not_in_team",
            "The receiver is not an agent of the case's team; only a manager can reassign "
            "a case to another team.",
            fields={"to_agent": ["Not an agent of this case's team."]},
        )
    candidates = other_teams.filter(agents__user=to)
    if to_team is not None:
        candidates = candidates.filter(pk=to_team.pk)
    teams = list(candidates.distinct().order_by("id"))
    if not teams:
        raise CaseRuleError(
            "handoff_receiver_not_in_team",
            "The receiver is not an agent of the case's team or of another team you manage.",
            fields={"to_agent": ["Not an agent of a team you manage."]},
        )
    if len(teams) > 1:
        raise CaseRuleError(
            "handoff_team_required",
            "The receiver works in several of your teams; say which one takes the case.",
            fields={"to_team": ["Choose the team that takes the case."]},
        )
    return teams[0]


def _is_agent(user: User) -> bool:
    """Whether ``user`` has an agent profile (read with the user where the caller joined it)."""
    try:
        return user.agent_profile is not None  # type: ignore[union-attr]
    except AgentProfile.DoesNotExist:
        return False


def _parse_due(value: Any) -> datetime | None:
    """A briefed promise's due time, as the offer's snapshot stored it (ISO 8601)."""
    try:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _emit_owner_changed(*, case: Case, handoff: Handoff, now: datetime) -> None:
    """Tell integrators through their webhooks."""
    webhook_emit(
        scope=f"team:{case.team_id}",
        event="case.owner_changed",
        payload={
            "case": case.ref,
            "handoff": handoff.pk,
            "from_agent": handoff.from_agent_id,
            "owner": {"id": case.owner_id, "name": owner_contact(case.owner)["name"]},
            "owner_since": now.isoformat(),
            "team": case.team_id,
        },
        dedupe_key=f"handoff:{handoff.pk}:owner_changed",
        order=f"case:{case.pk}",
        tags=[f"case:{case.pk}"],
    )


# --- writes ----------------------------------------------------------------------------------


@outbox_batch()
def handoff_offer(
    *,
    case: Case | str,
    by: User,
    to: User,
    summary: HandoffSummary,
    reason: str,
    briefed_commitments: list[int] | None = None,
    to_team: Team | None = None,
) -> Handoff:
    """Offer the case to ``to`` with the context summary; the owner stays accountable until
    the receiver accepts. ``case``: the case, or its reference, read for ``by`` under the
    lock (NotFoundError, and nothing written, for a case they may not see)."""
    require_clean_text(
        {name: (getattr(summary, name) or "", SUMMARY_MAX, True) for name in SUMMARY_FIELDS}
    )
    if isinstance(case, str):
        case = lock_visible_case(user=by, ref=case)
    else:
        locked = lock_case(case.pk, read=case)
        if locked is None:
            raise NotFoundError(f"No case {case.ref}.")
        case = locked
    if not can_change_case(by, case):
        raise CaseRuleError(
            "handoff_not_allowed",
            "Only the case's owner, their cover while they are away, or a manager of its team"
            " can offer a hand-off.",
            status=403,
        )
    if case.status not in OPEN_STATUSES:
        raise CaseRuleError("case_not_open", "Only an open case can be handed off.", status=409)
    if reason not in HandoffReason.values:
        raise CaseRuleError(
            "invalid_handoff_reason",
            f"Unknown reason {reason!r}.",
            fields={"reason": [f"Choose one of: {', '.join(HandoffReason.values)}."]},
        )
    if to.pk == case.owner_id:
        raise CaseRuleError(
            "handoff_to_self",
            "The case already belongs to this agent.",
            fields={"to_agent": ["Choose someone other than the current owner."]},
        )
    if not to.is_active:
        raise CaseRuleError(
            "handoff_receiver_inactive",
            "The receiver's account is inactive.",
            fields={"to_agent": ["This agent is inactive."]},
        )
    if not _is_agent(to):
        raise CaseRuleError(
            "handoff_receiver_not_agent",
            "The receiver is not an agent.",
            fields={"to_agent": ["Not an agent."]},
        )
    target_team = _receiver_team(case=case, by=by, to=to, to_team=to_team)
    now = timezone.now()
    # one read for the open offer and the ping-pong flag
    states = set(
        Handoff.objects.filter(
            Q(case=case, status=HandoffStatus.OFFERED)
            | handoff_recently_owned(case=case, to=to, now=now)
        ).values_list("status", flat=True)
    )
    if HandoffStatus.OFFERED in states:
        raise _already_open()
    gate = handoff_summary_check(
        summary=summary,
        open_commitments=hooks.collect_open_commitments(case),
        briefed_ids=list(briefed_commitments or []),
        previous=handoff_previous_summary(case),
    )
    if not gate.passed:
        raise CaseRuleError(gate.code, gate.message, fields=gate.errors)
    summary = summary.cleaned()
    wait = timedelta(minutes=case.team.handoff_accept_minutes)
    remind_at = hooks.add_business_time(case.team, now, wait)
    try:
        # no savepoint: an offer made meanwhile ends this call (the service's own atomic rolls
        # it all back), nothing here goes on after the error
        with transaction.atomic(savepoint=False):
            handoff = Handoff.objects.create(
                case=case,
                team_id=case.team_id,
                from_agent=case.owner,
                to_agent=to,
                offered_by=by,
                to_team=target_team,
                reason=reason,
                customer_needs=summary.customer_needs,
                actions_taken=summary.actions_taken,
                customer_expectations=summary.customer_expectations,
                next_step=summary.next_step,
                briefed_commitments=gate.commitments,
                offered_at=now,
                flags=handoff_offer_flags(
                    case=case, to=to, now=now, recently_owned=HandoffStatus.ACCEPTED in states
                ),
                remind_at=remind_at,
                escalate_at=hooks.add_business_time(case.team, remind_at, wait),
            )
    except IntegrityError:  # an offer made meanwhile: the partial unique constraint
        raise _already_open() from None
    case.updated_at = now
    case.save(update_fields=["updated_at"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_OFFERED,
        actor=by,
        at=now,
        data={
            "handoff_id": handoff.pk,
            "from_agent_id": case.owner_id,
            "to_agent_id": to.pk,
            "reason": reason,
            "flags": handoff.flags,
            **({"to_team_id": target_team.pk} if target_team else {}),
        },
    )
    _tell_receiver(handoff, case=case, template="handoff_offered", by=by)
    return handoff


def _tell_receiver(handoff: Handoff, *, case: Case, template: str, by: User) -> None:
    """The receiver hears of an offer at once (with the brief), and of its withdrawal."""
    notification_enqueue(
        later=True,
        recipient=agent_recipient(handoff.to_agent),
        template=f"cases/email/{template}",
        context={
            "case_ref": case.ref,
            "case_subject": case.subject,
            "case_url": staff_case_url(case),
            "customer_full_name": case.customer.full_name,
            "receiver_name": display_name(handoff.to_agent),
            "sender_name": display_name(handoff.from_agent),
            "owner_name": display_name(case.owner),
            "offered_by_name": display_name(handoff.offered_by),
            "cancelled_by_name": display_name(by),
            "reason": handoff.get_reason_display(),
            "customer_needs": handoff.customer_needs,
            "actions_taken": handoff.actions_taken,
            "customer_expectations": handoff.customer_expectations,
            "next_step": handoff.next_step,
        },
        dedupe_key=f"handoff:{handoff.pk}:{template.removeprefix('handoff_')}:receiver",
        tags=[f"handoff:{handoff.pk}"],
    )


@outbox_batch()
def handoff_accept(*, handoff: Handoff, by: User) -> Handoff:
    """The receiver takes the case: owner, commitments, timeline and notices move together."""
    case, handoff = _locked_pair(handoff)
    if by.pk != handoff.to_agent_id:
        raise CaseRuleError(
            "handoff_not_receiver", "Only the receiver can accept this hand-off.", status=403
        )
    _require_open_offer(handoff)
    if case.status not in OPEN_STATUSES:
        raise CaseRuleError(
            "case_not_open", "The case was resolved or closed; cancel this offer.", status=409
        )
    if case.owner_id != handoff.from_agent_id:  # pragma: no cover - one open offer per case
        raise CaseRuleError("handoff_stale", "The case has changed owner since.", status=409)
    if not by.is_active:
        raise CaseRuleError("handoff_receiver_inactive", "Your account is inactive.", status=403)
    now = timezone.now()
    previous_owner = case.owner
    case.owner = handoff.to_agent
    case.owner_since = now
    case.owner_count += 1
    case.updated_at = now
    update = ["owner", "owner_since", "owner_count", "updated_at"]
    if handoff.to_team is not None:
        case.team = handoff.to_team
        update.append("team")
        # the case's hand-offs follow it (its promises: commitments' handler, same transaction)
        Handoff.objects.filter(case=case).update(team=handoff.to_team)
        handoff.team = handoff.to_team
    case.save(update_fields=update)
    handoff.status = HandoffStatus.ACCEPTED
    handoff.decided_at = now
    handoff.quality_score = handoff_quality_score(handoff)
    handoff.save(update_fields=["status", "decided_at", "quality_score"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_ACCEPTED,
        actor=by,
        at=now,
        data={
            "handoff_id": handoff.pk,
            "from_agent_id": previous_owner.pk,
            "to_agent_id": by.pk,
            "owner_count": case.owner_count,
            **({"to_team_id": handoff.to_team_id} if handoff.to_team_id else {}),
        },
    )
    hooks.run(hooks.handoff_accepted, case=case, handoff=handoff, now=now)
    tz_name = case.customer.time_zone
    promises = [
        {
            "description": item.get("description", ""),
            "due": local_time_text(_parse_due(item.get("due_at")), tz_name),
            # written in the customer's language when sent (the ``local_time`` filter)
            "due_at": item.get("due_at") or "",
        }
        for item in handoff.briefed_commitments or []
        # the owner's own follow-ups are briefed to the new owner, never listed to the customer
        if item.get("customers", True)
    ]
    # The product's own notice (by=None): a spam limit must never hold back an ownership move.
    customer_notice_enqueue(
        case=case,
        by=None,
        template="cases/email/handoff_introduction",
        context={
            **customer_context(case),
            "previous_owner_name": owner_contact(previous_owner)["name"],
            "promises": promises,
        },
        dedupe_key=f"handoff:{handoff.pk}:introduction",
        tags=[f"handoff:{handoff.pk}"],
    )
    _emit_owner_changed(case=case, handoff=handoff, now=now)
    return handoff


@outbox_batch()
def handoff_decline(*, handoff: Handoff, by: User, reason: str) -> Handoff:
    """The receiver says no, with a reason; the owner keeps the case."""
    require_clean_text({"reason": (reason or "", REASON_MAX, True)})
    case, handoff = _locked_pair(handoff)
    if by.pk != handoff.to_agent_id:
        raise CaseRuleError(
            "handoff_not_receiver", "Only the receiver can decline this hand-off.", status=403
        )
    _require_open_offer(handoff)
    reason = (reason or "").strip()
    if not reason:
        raise CaseRuleError(
            "decline_reason_required",
            "Say why you decline, so the owner can find someone else.",
            fields={"reason": ["This field may not be blank."]},
        )
    handoff.decline_reason = reason
    offer_end(
        handoff, case=case, status=HandoffStatus.DECLINED, by=by, now=timezone.now(), reason=reason
    )
    # The owner may think the case has moved on: tell them it is still theirs.
    notification_enqueue(
        later=True,
        recipient=agent_recipient(case.owner),
        template="cases/email/handoff_declined",
        context={
            "case_ref": case.ref,
            "case_subject": case.subject,
            "case_url": staff_case_url(case),
            "owner_name": owner_contact(case.owner)["name"],
            "receiver_name": owner_contact(handoff.to_agent)["name"],
            "decline_reason": reason,
        },
        dedupe_key=f"handoff:{handoff.pk}:declined",
        tags=[f"handoff:{handoff.pk}"],
    )
    return handoff


@outbox_batch()
def handoff_cancel(*, handoff: Handoff, by: User) -> Handoff:
    """The offerer (the owner, or a manager of the team) withdraws the offer."""
    case, handoff = _locked_pair(handoff)
    if by.pk not in (handoff.offered_by_id, handoff.from_agent_id) and not is_team_manager(
        by, case.team_id
    ):
        raise CaseRuleError(
            "handoff_not_offerer",
            "Only whoever offered the hand-off, the owner or a manager can cancel it.",
            status=403,
        )
    _require_open_offer(handoff)
    offer_end(handoff, case=case, status=HandoffStatus.CANCELLED, by=by, now=timezone.now())
    _tell_receiver(handoff, case=case, template="handoff_cancelled", by=by)
    return handoff


__all__ = [
    "handoff_accept",
    "handoff_cancel",
    "handoff_decline",
    "handoff_offer",
]
