"""Writes on commitments: each function is one transaction that records its timeline event,
keeps ``Case.next_due_at`` equal to the earliest open promise and queues its notifications.

The shared steps (locks, making and ending a promise) are in ``commitments.lifecycle``; the
due sweep in ``commitments.sweep``; the handlers ``cases`` calls in ``commitments.handlers``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from caseowner.text import REASON_MAX, require_clean_text
from cases.models import Case
from cases.overdue import ended_on_time
from cases.selectors import lock_visible_case
from cases.services import case_event_record
from commitments.errors import CommitmentRuleError
from commitments.lifecycle import (
    User,
    lock_existing_case,
    lock_for_change,
    promise_end,
    promise_make,
    require_change,
)
from commitments.models import (
    Commitment,
    CommitmentStatus,
    PromiseEventKind,
    is_customer_kind,
)
from commitments.notices import (
    CustomerNotice,
    commitment_ics,
    local_text,
    promise_context,
    promise_notice_enqueue,
)
from commitments.scheduling import DueLike, reminders_confirmed_on_track
from commitments.selectors import iso
from notifications.services import outbox_batch


@outbox_batch()
def commitment_create(
    *,
    case: Case | str,
    by: User | None,
    description: str,
    kind: str,
    due: DueLike,
    notify_customer: bool = True,
) -> Commitment:
    """Record a promise on an open case, schedule its reminders and tell the customer.

    ``by`` None means the product made the promise (first response, hand-off follow-up).
    The owner's own tasks (``OWNER_KINDS``) are the product's to make: a person records a
    customer's promise, and the customer is told of it; the owner's tasks are never told.
    ``case``: the case, or its reference, read for ``by`` under the lock (NotFoundError, and
    nothing written, for a case they may not see).
    """
    if isinstance(case, str):
        if by is None:
            raise ValueError("a case's reference is read for a person")
        case = lock_visible_case(user=by, ref=case)
    else:
        case = lock_existing_case(case.pk, read=case)
    require_change(by, case)
    if by is not None and not is_customer_kind(kind):
        raise CommitmentRuleError(
            "invalid_commitment",
            "The promise has invalid fields.",
            fields={"kind": ["The product makes the owner's follow-ups itself."]},
        )
    now = timezone.now()
    commitment = promise_make(
        case=case, by=by, description=description, kind=kind, due=due, now=now
    )
    if notify_customer and is_customer_kind(commitment.kind):
        notice = CustomerNotice(
            template="commitment_made",
            dedupe_key=f"commitment:{commitment.pk}:made",
            extra=promise_context(commitment, case.customer.time_zone),
            attachments=(commitment_ics(commitment=commitment, case=case, now=now),),
        )
        promise_notice_enqueue(case=case, notice=notice, by=by)
    return commitment


@outbox_batch()
def commitment_mark_kept(*, commitment: Commitment | int, by: User) -> Commitment:
    """The promise was kept: no later reminder goes out. ``commitment``: the promise, or its
    id, read for ``by`` under the lock (NotFoundError for one they may not see)."""
    commitment, case = lock_for_change(commitment, by=by)
    promise_keep(commitment=commitment, case=case, by=by, now=timezone.now())
    return commitment


def promise_keep(
    *,
    commitment: Commitment,
    case: Case,
    by: User | None,
    now: datetime,
    kept_at: datetime | None = None,
    reason: str = "",
    data: dict | None = None,
) -> None:
    """End a locked open promise as kept, the one way every caller does (the owner's "keep",
    a resolved case, the first reply to the customer): on time when kept (``kept_at``, default
    ``now``) by its due time; ``data`` adds to the timeline event."""
    on_time = ended_on_time(kept_at or now, commitment.due_at)
    promise_end(
        commitment=commitment,
        case=case,
        status=CommitmentStatus.KEPT,
        by=by,
        now=now,
        reason=reason,
        data={"description": commitment.description, "on_time": on_time, **(data or {})},
    )


@outbox_batch()
def commitment_renegotiate(
    *, commitment: Commitment, by: User, due: DueLike, reason: str
) -> Commitment:
    """Replace a promise with a new date and tell the customer at once (the delay notice).

    Returns the successor, which carries the same words, kind and owner.
    """
    commitment, case = lock_for_change(commitment, by=by)
    reason = _require_reason(reason)
    now = timezone.now()
    successor = promise_make(
        case=case,
        by=by,
        description=commitment.description,
        kind=commitment.kind,
        due=due,
        now=now,
    )
    if successor.due_at == commitment.due_at:
        raise CommitmentRuleError(
            "same_due_time",
            "The new date is the same as the current one.",
            fields={"due_at": ["Choose a different time."]},
        )
    tz_name = case.customer.time_zone
    promise_end(
        commitment=commitment,
        case=case,
        status=CommitmentStatus.RENEGOTIATED,
        by=by,
        now=now,
        reason=reason,
        successor=successor,
        data={
            "successor_id": successor.pk,
            "from_due_at": iso(commitment.due_at),
            "to_due_at": iso(successor.due_at),
            "reason": reason,
            "before_due": now <= commitment.due_at,
        },
        notice=_customers(
            commitment,
            template="renegotiated",
            dedupe_key=f"commitment:{commitment.pk}:renegotiated",
            extra={
                **promise_context(successor, tz_name),
                "reason": reason,
                "previous_due_local": local_text(commitment.due_at, tz_name),
                "previous_due_at": iso(commitment.due_at),
            },
            attachments=(
                commitment_ics(commitment=successor, case=case, now=now, replaces=commitment),
            ),
        ),
    )
    return successor


@outbox_batch()
def commitment_withdraw(*, commitment: Commitment, by: User, reason: str) -> Commitment:
    """Take a promise back, with a reason the customer is told."""
    commitment, case = lock_for_change(commitment, by=by)
    reason = _require_reason(reason)
    now = timezone.now()
    promise_end(
        commitment=commitment,
        case=case,
        status=CommitmentStatus.WITHDRAWN,
        by=by,
        now=now,
        reason=reason,
        data={"reason": reason},
        notice=_customers(
            commitment,
            template="withdrawn",
            dedupe_key=f"commitment:{commitment.pk}:withdrawn",
            extra={**promise_context(commitment, case.customer.time_zone), "reason": reason},
            # the customer's calendar drops the entry it was given
            attachments=(commitment_ics(commitment=commitment, case=case, now=now, cancel=True),),
        ),
    )
    return commitment


@outbox_batch()
def commitment_confirm_on_track(*, commitment: Commitment, by: User) -> Commitment:
    """The owner says the promise will be kept: no at-risk alert, a plain reminder instead."""
    commitment, case = lock_for_change(commitment, by=by)
    now = timezone.now()
    commitment.confirmed_on_track_at = now
    commitment.save(update_fields=["confirmed_on_track_at"])
    reminders_confirmed_on_track(commitment=commitment, case=case, now=now)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_CONFIRMED,
        actor=by,
        at=now,
        data={"commitment_id": commitment.pk},
    )
    return commitment


def _customers(commitment: Commitment, **notice: Any) -> CustomerNotice | None:
    """The customer's notice about ``commitment``, or None for an owner's task."""
    return CustomerNotice(**notice) if is_customer_kind(commitment.kind) else None


def _require_reason(reason: str) -> str:
    require_clean_text({"reason": (reason or "", REASON_MAX, True)})
    reason = (reason or "").strip()
    if not reason:
        raise CommitmentRuleError(
            "reason_required",
            "Say why, in words the customer will read.",
            fields={"reason": ["This field may not be blank."]},
        )
    return reason
