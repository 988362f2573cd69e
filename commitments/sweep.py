"""Promises whose due time passed while still open: marked missed, the customer apologised
to once, the team's managers alerted, a recovery step made for the owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.handoff_sweep import handoff_record_commitment_missed
from cases.models import OPEN_STATUSES, Case
from commitments.calendar_services import team_calendar
from commitments.lifecycle import (
    DESCRIPTION_MAX,
    lock_commitment,
    promise_end,
    promise_make,
    try_lock_case,
)
from commitments.models import Commitment, CommitmentKind, CommitmentStatus
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
    if not commitment.is_open or commitment.due_at > now:
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
        Commitment.objects.filter(status=CommitmentStatus.OPEN, due_at__lte=now)
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
                .filter(pk=commitment_id, status=CommitmentStatus.OPEN, due_at__lte=now)
                .first()
            )
            if commitment is None:
                continue
            commitment.case = case
            _mark_missed(commitment=commitment, case=case, now=now)
            marked += 1
    return marked


def _mark_missed(*, commitment: Commitment, case: Case, now: datetime) -> None:
    """One apology per promise: a missed recovery step ends without a recovery of its own."""
    recovery = None
    is_recovery = Commitment.objects.filter(
        successor=commitment, status=CommitmentStatus.MISSED
    ).exists()
    if case.status in OPEN_STATUSES and not is_recovery:
        calendar = team_calendar(case.team)
        recovery = promise_make(
            case=case,
            by=None,
            description=f"Contact you personally about: {commitment.description}"[:DESCRIPTION_MAX],
            kind=CommitmentKind.UPDATE,
            due=max(calendar.standard_day, timedelta(hours=1)),
            now=now,
        )
    tz_name = case.customer.time_zone
    next_step = (
        promise_context(recovery, tz_name, prefix="next_")
        if recovery
        else {"next_description": "", "next_due_local": ""}
    )
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
        ),
    )
    missed_manager_alerts(commitment=commitment, case=case)
    handoff_record_commitment_missed(case_id=case.pk, commitment_id=commitment.pk)
