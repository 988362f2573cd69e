"""The steps every promise's life shares, inside the caller's transaction: lock the case and
the promise (in that order, everywhere), check who may change it, make a promise, and end one.

Making and ending keep ``Case.next_due_at`` equal to the earliest open promise, record the
timeline event and tell integrators, so no service can forget one of them.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Min

from caseowner.text import require_clean_text
from caseowner.types import User
from cases import locking
from cases.models import OPEN_STATUSES, Case
from cases.permissions import can_change_case, team_ids_visible
from cases.services import case_event_record
from commitments.errors import CommitmentRuleError
from commitments.models import (
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    PromiseEventKind,
)
from commitments.notices import CustomerNotice, commitment_webhook_emit, promise_notice_enqueue
from commitments.scheduling import (
    DueLike,
    due_resolve,
    reminder_leads,
    reminders_cancel,
    reminders_schedule,
    reminders_tag,
)
from commitments.selectors import iso
from notifications.enqueue import notification_cancel_statement, update_statement

DESCRIPTION_MAX = 500
_ENDED_EVENTS = {
    CommitmentStatus.KEPT: PromiseEventKind.COMMITMENT_KEPT,
    CommitmentStatus.RENEGOTIATED: PromiseEventKind.COMMITMENT_RENEGOTIATED,
    CommitmentStatus.WITHDRAWN: PromiseEventKind.COMMITMENT_WITHDRAWN,
    CommitmentStatus.MISSED: PromiseEventKind.COMMITMENT_MISSED,
}


# --- locks -------------------------------------------------------------------------------------


def lock_existing_case(case_id: int, *, read: Case | None = None) -> Case:
    """Lock the case row (``cases.locking``: one lock helper for every app), then read it with
    what notices need; a case that is not there raises ``Case.DoesNotExist``. ``read``: the
    case as the caller read it with its people (``locking.lock_case``)."""
    case = locking.lock_case(case_id, read=read)
    if case is None:
        raise Case.DoesNotExist(f"no case {case_id}")
    return case


def try_lock_case(case_id: int) -> Case | None:
    """The sweep's lock: None, at once, when another transaction holds the case (or it is
    gone), where ``lock_existing_case`` waits and raises."""
    return locking.lock_case(case_id, skip_locked=True)


def lock_commitment(commitment: Commitment) -> tuple[Commitment, Case]:
    """Lock the case first, then the commitment: one order everywhere, so no deadlocks. The
    case the caller read with the promise lends its people to the lock, which takes both
    rows in one statement (``locking.lock_with_case``)."""
    cached = Commitment._meta.get_field("case").is_cached(commitment)  # type: ignore[union-attr]
    if cached:
        found = locking.lock_with_case(Commitment, commitment.pk, case=commitment.case)
        if found is None:
            raise Commitment.DoesNotExist(f"no commitment {commitment.pk}")
        locked, case = found, found.case
    else:
        case = lock_existing_case(commitment.case_id)
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    owner = Case._meta.get_field("owner")
    if not owner.is_cached(case) and case.owner_id == commitment.owner_id:  # type: ignore[union-attr]
        if Commitment._meta.get_field("owner").is_cached(commitment):  # type: ignore[union-attr]
            case.owner = commitment.owner  # the promise's owner is the case's: read with it
    locked.case = case
    if locked.owner_id == case.owner_id:
        # A promise's owner is its case's owner, already read with the case: no second read.
        locked.owner = case.owner
    return locked, case


def lock_visible(pk: int, *, user: User) -> tuple[Commitment, Case]:
    """The promise ``user`` may see (``selectors.commitment_get_for_user``) read and locked
    with its case in one statement (the case first), with the people that read joins: the
    permission is checked on the locked rows, so a caller's transaction that starts with it
    needs no read before. NotFoundError (nothing written) when it is not there for ``user``.

    When a racing transaction changed the case or the promise while this waited, PostgreSQL
    rechecks the joins against the people as they were and may drop the row: it is then read
    and locked the longer way (``commitment_get_for_user``, ``lock_commitment``)."""
    from commitments.selectors import commitment_get_for_user

    rows = Commitment.objects.filter(pk=pk)
    if not getattr(user, "is_superuser", False):
        rows = rows.filter(case__team_id__in=team_ids_visible(user))
    locked = (
        rows.select_related("case", "case__team", "owner", "owner__agent_profile")
        .select_for_update(of=("case", "self"))
        .first()
    )
    if locked is None:
        return lock_commitment(commitment_get_for_user(user=user, pk=pk))
    if locked.owner_id == locked.case.owner_id:
        locked.case.owner = locked.owner  # a promise's owner is its case's: read with it
    return locked, locked.case


def lock_for_change(commitment: Commitment | int, *, by: User) -> tuple[Commitment, Case]:
    """Lock an open promise that ``by`` may change (its case's owner, their cover while they
    are away, or a team manager). ``commitment``: the promise as the caller read it, or its
    id, read for ``by`` under the lock (``lock_visible``)."""
    if isinstance(commitment, int):
        commitment, case = lock_visible(commitment, user=by)
    else:
        commitment, case = lock_commitment(commitment)
    require_change(by, case)
    if not commitment.is_open:
        raise CommitmentRuleError(
            "commitment_not_open",
            f"This promise has already ended ({commitment.get_status_display().lower()}).",
            status=409,
        )
    return commitment, case


def require_change(by: User | None, case: Case) -> None:
    """``by`` None is the product itself, which may always change a case's promises."""
    if by is not None and not can_change_case(by, case):
        raise CommitmentRuleError(
            "not_case_owner",
            "Only the case's owner, their cover while they are away, or a manager of its team"
            " can change its promises.",
            status=403,
        )


# --- making and ending -------------------------------------------------------------------------


def case_next_due_refresh(
    *, case: Case, made: Commitment | None = None, ended: Commitment | None = None
) -> None:
    """Keep ``Case.next_due_at`` equal to the earliest open promise, in the caller's transaction.

    ``made``: the one promise just made on the locked case (read in this transaction, so
    ``next_due_at`` holds for the others): the earliest is the sooner of the two, no read.
    ``ended``: the one promise just ended; due after the earliest, it was not the earliest,
    which stays (no read)."""
    known = case.next_due_at
    if ended is not None and known is not None and ended.due_at > known:
        return
    if made is not None:
        earliest = made.due_at if known is None else min(known, made.due_at)
    else:
        earliest = Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN).aggregate(
            m=Min("due_at")
        )["m"]
    if case.next_due_at != earliest:
        case.next_due_at = earliest
        Case.objects.filter(pk=case.pk).update(next_due_at=earliest)


def promise_make(
    *,
    case: Case,
    by: User | None,
    description: str,
    kind: str,
    due: DueLike,
    now: datetime,
    event_data: dict | None = None,
) -> Commitment:
    """Make a promise on a locked, open case: its reminders, the case's next due time, the
    timeline event (``event_data`` added to it) and the webhook. Telling the customer is the
    caller's choice."""
    require_clean_text({"description": (description or "", DESCRIPTION_MAX, True)})
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Write the promise in the customer's words."]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    if kind not in CommitmentKind.values:
        errors["kind"] = [f"One of: {', '.join(CommitmentKind.values)}."]
    elif kind == CommitmentKind.FIRST_RESPONSE and by is not None:
        errors["kind"] = ["The first-reply promise is made when the case opens."]
    if errors:
        raise CommitmentRuleError(
            "invalid_commitment", "The promise has invalid fields.", fields=errors
        )
    if case.status not in OPEN_STATUSES:
        raise CommitmentRuleError(
            "case_not_open", "Promises can be made only on an open case.", status=409
        )
    resolved = due_resolve(team=case.team, due=due, now=now)
    commitment = Commitment(
        case=case,
        team_id=case.team_id,
        made_by=by,
        owner=case.owner,
        description=description,
        kind=kind,
        due_at=resolved.due_at,
        made_at=now,
        made_in_business_time=resolved.in_business_time,
        business_duration=resolved.words,
        at_risk_from=resolved.due_at,
    )
    leads = reminder_leads(commitment=commitment, team=case.team)
    if leads:
        commitment.at_risk_from = leads[-1].send_at
    commitment.save()
    reminders_schedule(commitment=commitment, case=case, now=now)
    case_next_due_refresh(case=case, made=commitment)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_MADE,
        actor=by,
        at=now,
        data={
            "commitment_id": commitment.pk,
            "description": commitment.description,
            "kind": commitment.kind,
            "due_at": iso(commitment.due_at),
            **({"within": resolved.words} if resolved.words else {}),
            **(event_data or {}),
        },
    )
    commitment_webhook_emit(commitment=commitment, case=case, event="made")
    return commitment


def promise_end(
    *,
    commitment: Commitment,
    case: Case,
    status: CommitmentStatus,
    by: User | None,
    now: datetime,
    reason: str = "",
    successor: Commitment | None = None,
    data: dict | None = None,
    notice: CustomerNotice | None = None,
) -> None:
    """End a locked promise exactly once (invariant 5), the same way every time: its pending
    reminders cancelled, the case's next due time, the timeline event (``data`` added to the
    promise's id), the customer's notice if any, and the webhook named after the status."""
    commitment.status = status
    commitment.ended_at = now
    commitment.ended_by = by
    commitment.end_reason = reason
    commitment.successor = successor
    _save_and_cancel_reminders(
        commitment, ["status", "ended_at", "ended_by", "end_reason", "successor"]
    )
    case_next_due_refresh(case=case, ended=commitment)
    case_event_record(
        case=case,
        kind=_ENDED_EVENTS[status],
        actor=by,
        at=now,
        data={"commitment_id": commitment.pk, **(data or {})},
    )
    if notice is not None:
        promise_notice_enqueue(case=case, notice=notice, by=by)
    commitment_webhook_emit(commitment=commitment, case=case, event=status.value)


def _save_and_cancel_reminders(commitment: Commitment, fields: list[str]) -> None:
    """Save ``fields`` of an ended promise and cancel its pending reminders
    (``reminders_cancel``): on PostgreSQL in one statement, the promise's UPDATE in a
    ``WITH`` before the reminders' (two tables, neither reads the other's rows)."""
    if connection.vendor != "postgresql":
        commitment.save(update_fields=fields)
        reminders_cancel(commitment=commitment)
        return
    ended_sql, ended_params = update_statement(
        Commitment.objects.filter(pk=commitment.pk),
        {name: getattr(commitment, name) for name in fields},
    )
    cancel_sql, cancel_params = notification_cancel_statement(tag=reminders_tag(commitment))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH ended AS ({ended_sql}) {cancel_sql}", (*ended_params, *cancel_params))
