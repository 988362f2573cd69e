"""Promises whose due time passed while still open: marked missed and the team's managers
alerted. A customer's promise brings the customer one apology and the owner a recovery task
(an owner kind); an owner's task (a hand-off check, a recovery) brings the customer nothing
and has no recovery of its own, so a promise is apologised for once however its recovery
goes (``commitments.models.OWNER_KINDS``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.handoffs.sweep import handoff_record_commitment_missed
from cases.models import OPEN_STATUSES, Case
from cases.overdue import is_overdue, overdue_q
from commitments.calendar_services import team_calendar
from commitments.lifecycle import (
    DESCRIPTION_MAX,
    lock_commitment,
    promise_end,
    promise_make,
    try_lock_case,
)
from commitments.models import Commitment, CommitmentKind, CommitmentStatus, is_customer_kind
from commitments.notices import CustomerNotice, missed_manager_alerts, promise_context
from commitments.selectors import iso


@transaction.atomic
def commitment_mark_missed(*, commitment: Commitment, now: datetime | None = None) -> bool:
    """Mark a due, still-open promise missed; False (and nothing sent) if it is not.

    Safe to call any number of times, from any number of processes: the case and the
    commitment are locked and re-read, and every notice has a dedupe key.
    """
    now = now or timezone.now()
    commitment, case = lock_commitment(commitment)
    if not commitment.is_open or not is_overdue(commitment.due_at, now):
        return False
    _mark_missed(commitment=commitment, case=case, now=now)
    return True


def commitments_sweep_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Mark due open promises missed; returns how many this call marked.

    Each promise is claimed in its own short transaction: the case row, then the commitment
    row, both with SKIP LOCKED, so concurrent sweeps share the work and never wait on the
    API or each other; anything skipped is picked up by the next run.
    """
    now = now or timezone.now()
    due = list(
        Commitment.objects.filter(overdue_q(now), status=CommitmentStatus.OPEN)
        .order_by("due_at", "id")
        .values_list("id", "case_id")[:limit]
    )
    marked = 0
    for commitment_id, case_id in due:
        with transaction.atomic():
            case = try_lock_case(case_id)
            if case is None:
                continue
            commitment = (
                Commitment.objects.select_for_update(skip_locked=True)
                .filter(overdue_q(now), pk=commitment_id, status=CommitmentStatus.OPEN)
                .first()
            )
            if commitment is None:
                continue
            commitment.case = case
            _mark_missed(commitment=commitment, case=case, now=now)
            marked += 1
    return marked


def recovery_description(missed: str) -> str:
    """The owner's task after a missed promise, in the owner's words."""
    return f"Call the customer personally about the missed promise: {missed}"[:DESCRIPTION_MAX]


def _mark_missed(*, commitment: Commitment, case: Case, now: datetime) -> None:
    """One apology per promise: only a customer's promise is apologised for and gets a
    recovery task; a missed owner's task is on the timeline and told to the managers only."""
    customers = is_customer_kind(commitment.kind)
    recovery = None
    if case.status in OPEN_STATUSES and customers:
        calendar = team_calendar(case.team)
        recovery = promise_make(
            case=case,
            by=None,
            description=recovery_description(commitment.description),
            kind=CommitmentKind.RECOVERY,
            due=max(calendar.standard_day, timedelta(hours=1)),
            now=now,
        )
    tz_name = case.customer.time_zone
    # When the owner will call: the recovery task itself is the owner's, in the owner's words,
    # so the customer's apology carries its time only.
    next_step = {"next_due_local": ""}
    if recovery is not None:
        step = promise_context(recovery, tz_name, prefix="next_")
        next_step = {key: step[key] for key in ("next_due_at", "next_due_local")}
    promise_end(
        commitment=commitment,
        case=case,
        status=CommitmentStatus.MISSED,
        by=None,
        now=now,
        reason="Due time passed with the promise still open.",
        successor=recovery,
        data={
            "due_at": iso(commitment.due_at),
            "owner_id": commitment.owner_id,
            **({"recovery_id": recovery.pk} if recovery else {}),
        },
        notice=CustomerNotice(
            template="missed",
            dedupe_key=f"commitment:{commitment.pk}:missed:apology",
            extra={**promise_context(commitment, tz_name), **next_step},
        )
        if customers
        else None,
    )
    missed_manager_alerts(commitment=commitment, case=case)
    handoff_record_commitment_missed(case_id=case.pk, commitment_id=commitment.pk)
