"""Offers left waiting and hand-offs looked at again later: the sweep's reminder and
escalation, an offer expiring with its case, and a carried promise missed after acceptance.

These run without a person asking: from the periodic sweep (``cases.tasks``) and from the
handlers other apps call (``hooks.case_closed``; the commitments app when it marks a promise
missed). Every offer that ends unaccepted, here or in ``cases.handoffs.services``, ends
through ``offer_end``. Locks follow ``cases.locking``'s order: the case row, then the hand-off row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from caseowner.types import User
from cases.handoffs.gate import FLAG_CARRIED_COMMITMENT_MISSED, handoff_quality_score
from cases.locking import lock_case, lock_case_row, lock_handoff
from cases.models import OPEN_STATUSES, Case, EventKind, Handoff, HandoffStatus
from cases.notices import local_time_text, staff_case_url
from cases.recipients import agent_recipient, owner_contact
from cases.services import case_event_record
from notifications.services import notification_enqueue

_END_EVENTS: dict[str, str] = {
    HandoffStatus.DECLINED: EventKind.HANDOFF_DECLINED,
    HandoffStatus.CANCELLED: EventKind.HANDOFF_CANCELLED,
    HandoffStatus.EXPIRED: EventKind.HANDOFF_EXPIRED,
}


def offer_end(
    handoff: Handoff, *, case: Case, status: str, by: User | None, now: datetime, **data: Any
) -> None:
    """An offer ends unaccepted (declined, cancelled, expired): its status, the moment, and
    the timeline event naming the receiver and ``data``. The owner keeps the case."""
    handoff.status = status
    handoff.decided_at = now
    handoff.save(update_fields=["status", "decided_at", "decline_reason"])
    case_event_record(
        case=case,
        kind=_END_EVENTS[status],
        actor=by,
        at=now,
        data={"handoff_id": handoff.pk, "to_agent_id": handoff.to_agent_id, **data},
    )


def handoff_on_case_closed(*, case: Case, by: User | None, now: datetime) -> Handoff | None:
    """A ``hooks.case_closed`` handler: an offer still waiting when its case is resolved or
    closed expires (nobody can accept a case that is over), in the closing transaction."""
    waiting = Handoff.objects.filter(case_id=case.pk, status=HandoffStatus.OFFERED)
    ids = list(waiting.values_list("pk", flat=True))
    if not ids:
        return None
    handoff = lock_handoff(ids[0])
    if handoff is None or handoff.status != HandoffStatus.OFFERED:
        return None
    offer_end(handoff, case=case, status=HandoffStatus.EXPIRED, by=by, now=now, why=case.status)
    return handoff


@transaction.atomic
def handoff_record_commitment_missed(*, case_id: int, commitment_id: int) -> Handoff | None:
    """A commitment carried by a hand-off was missed later: flag the hand-off for the audit
    and lower its score. The commitments module calls this when it marks a promise missed."""
    lock_case_row(case_id)
    candidates = Handoff.objects.filter(case_id=case_id, status=HandoffStatus.ACCEPTED).order_by(
        "-decided_at", "-id"
    )
    for handoff in candidates.select_for_update(of=("self",)):
        if any(int(c.get("id", -1)) == int(commitment_id) for c in handoff.briefed_commitments):
            if FLAG_CARRIED_COMMITMENT_MISSED not in handoff.flags:
                handoff.flags = [*handoff.flags, FLAG_CARRIED_COMMITMENT_MISSED]
                handoff.quality_score = handoff_quality_score(handoff)
                handoff.save(update_fields=["flags", "quality_score"])
            return handoff
    return None


@transaction.atomic
def handoff_remind_or_escalate(*, handoff_id: int) -> list[str]:
    """The sweep's step for one waiting offer: remind the receiver once it is due, escalate to
    the team's managers once that is due; an offer whose case has closed expires instead.
    Returns what it did (``["reminded", "escalated"]`` or ``["expired"]``).

    Rows another sweep (or an accept) holds are skipped, not waited for; every notice has a
    dedupe key and every step is recorded on the row, so running it twice does nothing more.
    """
    case_id = Handoff.objects.filter(pk=handoff_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return []
    case = lock_case(case_id, skip_locked=True)
    if case is None:
        return []
    handoff = lock_handoff(handoff_id, skip_locked=True)
    if handoff is None or handoff.status != HandoffStatus.OFFERED:
        return []
    now = timezone.now()
    if case.status not in OPEN_STATUSES:
        # Closed while the offer waited: nobody is reminded about a case that is over.
        handoff_on_case_closed(case=case, by=None, now=now)
        return ["expired"]
    done: list[str] = []
    receiver = owner_contact(handoff.to_agent)
    sender = owner_contact(handoff.from_agent)
    context = {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "case_url": staff_case_url(case),
        "receiver_name": receiver["name"],
        "sender_name": sender["name"],
        "reason": handoff.get_reason_display(),
        "offered_at": local_time_text(handoff.offered_at, case.team.time_zone),
        "next_step": handoff.next_step,
    }
    if handoff.reminded_at is None and handoff.remind_at is not None and handoff.remind_at <= now:
        notification_enqueue(
            recipient=agent_recipient(handoff.to_agent),
            template="cases/email/handoff_reminder",
            context=context,
            dedupe_key=f"handoff:{handoff.pk}:reminder",
            tags=[f"handoff:{handoff.pk}"],
        )
        handoff.reminded_at = now
        case_event_record(
            case=case,
            kind=EventKind.HANDOFF_REMINDED,
            actor=None,
            at=now,
            data={"handoff_id": handoff.pk, "to_agent_id": handoff.to_agent_id},
        )
        done.append("reminded")
    if (
        handoff.escalated_at is None
        and handoff.escalate_at is not None
        and handoff.escalate_at <= now
    ):
        managers = list(case.team.managers.filter(is_active=True).order_by("id"))
        for manager in managers:
            notification_enqueue(
                recipient=agent_recipient(manager, kind="manager"),
                template="cases/email/handoff_escalation",
                context={**context, "manager_name": owner_contact(manager)["name"]},
                dedupe_key=f"handoff:{handoff.pk}:escalation:{manager.pk}",
                tags=[f"handoff:{handoff.pk}"],
            )
        handoff.escalated_at = now
        case_event_record(
            case=case,
            kind=EventKind.HANDOFF_ESCALATED,
            actor=None,
            at=now,
            data={"handoff_id": handoff.pk, "manager_ids": [m.pk for m in managers]},
        )
        done.append("escalated")
    if done:
        handoff.save(update_fields=["reminded_at", "escalated_at"])
    return done
