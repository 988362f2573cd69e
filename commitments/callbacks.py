"""Callbacks the customer books: each is a promise of kind ``callback`` owned by the case's
owner (so reminders, the at-risk alert, the delay notice and the missed sweep treat it like
every other promise) and a ``CallbackBooking`` that holds the agent's slot.

The customer books, moves or cancels from their link page (``by`` None: the customer, named
on the timeline as the actor); the owner (their cover, a manager) books for a customer who
has no email, from the same slots. Moving renegotiates the promise, cancelling withdraws it.
Two customers racing for one slot both pass the check; the database's partial unique
constraint lets one insert and the other gets 409 ``slot_taken``. Each function is one
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from caseowner.types import User
from cases.models import Case
from commitments.callback_slots import Slot, slot_offered
from commitments.errors import CommitmentRuleError
from commitments.lifecycle import lock_existing_case, promise_end, promise_make, require_change
from commitments.models import CallbackBooking, Commitment, CommitmentKind, CommitmentStatus
from commitments.notices import (
    CustomerNotice,
    commitment_ics,
    local_text,
    promise_context,
    promise_notice_enqueue,
)
from commitments.selectors import iso

# On the timeline, an event the customer caused from their page (no user account).
BY_CUSTOMER = {"by_customer": True}
# The reason the customer reads when they moved or cancelled it themselves.
MOVED_WORDS = gettext_noop("Moved at your request.")
CANCELLED_WORDS = gettext_noop("Cancelled at your request.")


def callback_of(case: Case) -> CallbackBooking | None:
    """The case's booked callback whose promise is still open, or None."""
    return (
        CallbackBooking.objects.select_related("commitment", "agent__agent_profile")
        .filter(case=case, active=True, commitment__status=CommitmentStatus.OPEN)
        .first()
    )


def _words(case: Case, slot: Slot) -> str:
    """The promise in the customer's words and language: "A call back on Tuesday 8 December
    2026, 10:00 GMT"."""
    with translation.override(case.customer.language or settings.LANGUAGE_CODE):
        when = local_text(slot.starts_at, case.customer.time_zone)
        return gettext("A call back on %(when)s") % {"when": when}


def _require_slot(case: Case, starts_at: datetime, now: datetime) -> Slot:
    if timezone.is_naive(starts_at):
        raise CommitmentRuleError(
            "invalid_slot",
            "A slot's start needs a time zone.",
            fields={"starts_at": ["Give a time zone offset."]},
        )
    slot = slot_offered(case=case, starts_at=starts_at, now=now)
    if slot is None:
        raise CommitmentRuleError(
            "slot_unavailable",
            "That time can no longer be booked: choose another.",
            fields={"starts_at": ["Not one of the offered slots."]},
            status=409,
        )
    return slot


def _insert(*, case: Case, commitment: Commitment, slot: Slot, by: User | None) -> CallbackBooking:
    """Hold the slot, or 409 ``slot_taken`` when another booking holds it (the savepoint
    keeps the caller's transaction usable until the error rolls it back)."""
    try:
        with transaction.atomic():
            return CallbackBooking.objects.create(
                case=case,
                commitment=commitment,
                agent_id=slot.agent_id,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                booked_by=by,
            )
    except IntegrityError as exc:
        if "callback_case_once" in str(exc):
            raise CommitmentRuleError(
                "callback_booked", "A callback is already booked: move it instead.", status=409
            ) from None
        raise CommitmentRuleError(
            "slot_taken", "Someone has just booked that time: choose another.", status=409
        ) from None


def _free_stale(agent_id: int, starts_at: datetime) -> None:
    """A booking whose promise ended another way (kept early, withdrawn by staff, the case
    resolved) no longer holds its slot."""
    CallbackBooking.objects.filter(agent_id=agent_id, starts_at=starts_at, active=True).exclude(
        commitment__status=CommitmentStatus.OPEN
    ).update(active=False)


def _made_notice(
    case: Case, commitment: Commitment, now: datetime, replaces: Commitment | None = None
) -> None:
    """The confirmation of the booked time. A moved callback (``replaces``: the promise the
    move renegotiated) is the same calendar entry published again, one SEQUENCE higher, so
    the customer's calendar moves it instead of keeping both times."""
    promise_notice_enqueue(
        case=case,
        notice=CustomerNotice(
            template="commitment_made",
            dedupe_key=f"commitment:{commitment.pk}:made",
            # the promise's words already give the booked time: no "by …" after them
            extra={**promise_context(commitment, case.customer.time_zone), "booked_call": True},
            attachments=(
                commitment_ics(commitment=commitment, case=case, now=now, replaces=replaces),
            ),
        ),
        by=None,
    )


def _tells_customer(case: Case, by: User | None) -> bool:
    """The customer who booked on their page is told (the calendar entry); one the owner
    booked for is told only by email (by phone they were told in the call)."""
    return by is None or bool(case.customer.email)


@transaction.atomic
def callback_book(*, case: Case, starts_at: datetime, by: User | None) -> CallbackBooking:
    """Book an offered slot for the case's customer: a ``callback`` promise due at the
    slot's end, owned by the case's owner, and the booking that holds the agent's slot."""
    case = lock_existing_case(case.pk)
    require_change(by, case)
    now = timezone.now()
    if callback_of(case) is not None:
        raise CommitmentRuleError(
            "callback_booked", "A callback is already booked: move it instead.", status=409
        )
    slot = _require_slot(case, starts_at, now)
    _free_stale(slot.agent_id, slot.starts_at)
    commitment = promise_make(
        case=case,
        by=by,
        description=_words(case, slot),
        kind=CommitmentKind.CALLBACK,
        due=slot.ends_at,
        now=now,
        event_data={**_event(slot), **(BY_CUSTOMER if by is None else {})},
    )
    booking = _insert(case=case, commitment=commitment, slot=slot, by=by)
    if _tells_customer(case, by):
        _made_notice(case, commitment, now)
    return booking


def _event(slot: Slot) -> dict[str, Any]:
    return {
        "callback_starts_at": iso(slot.starts_at),
        "callback_agent_id": slot.agent_id,
        **({"callback_cover": slot.agent_name} if slot.cover else {}),
    }


def _require_booking(case: Case) -> CallbackBooking:
    booking = callback_of(case)
    if booking is None:
        raise CommitmentRuleError("no_callback", "No callback is booked.", status=404)
    commitment = Commitment.objects.select_for_update().get(pk=booking.commitment_id)
    if commitment.status != CommitmentStatus.OPEN:  # pragma: no cover - read under the lock
        raise CommitmentRuleError("commitment_not_open", "This callback has ended.", status=409)
    booking.commitment = commitment
    return booking


def _reason(case: Case, by: User | None, reason: str, customer_words: str) -> str:
    if by is not None and reason.strip():
        return reason.strip()[:500]
    with translation.override(case.customer.language or settings.LANGUAGE_CODE):
        return gettext(customer_words)


@transaction.atomic
def callback_move(
    *, case: Case, starts_at: datetime, by: User | None, reason: str = ""
) -> CallbackBooking:
    """Move the booked callback to another offered slot: the promise is renegotiated (its
    successor holds the new slot), the old slot is free again."""
    case = lock_existing_case(case.pk)
    require_change(by, case)
    now = timezone.now()
    booking = _require_booking(case)
    if booking.starts_at == starts_at:
        raise CommitmentRuleError(
            "same_due_time",
            "The callback is already at that time.",
            fields={"starts_at": ["Choose a different time."]},
        )
    booking.active = False
    booking.save(update_fields=["active"])
    slot = _require_slot(case, starts_at, now)
    _free_stale(slot.agent_id, slot.starts_at)
    old = booking.commitment
    marker = BY_CUSTOMER if by is None else {}
    successor = promise_make(
        case=case,
        by=by,
        description=_words(case, slot),
        kind=CommitmentKind.CALLBACK,
        due=slot.ends_at,
        now=now,
        event_data={**_event(slot), **marker},
    )
    words = _reason(case, by, reason, MOVED_WORDS)
    promise_end(
        commitment=old,
        case=case,
        status=CommitmentStatus.RENEGOTIATED,
        by=by,
        now=now,
        reason=words,
        successor=successor,
        data={
            "successor_id": successor.pk,
            "from_due_at": iso(old.due_at),
            "to_due_at": iso(successor.due_at),
            "reason": words,
            "before_due": now <= old.due_at,
            **marker,
        },
    )
    moved = _insert(case=case, commitment=successor, slot=slot, by=by)
    if _tells_customer(case, by):
        _made_notice(case, successor, now, replaces=old)
    return moved


@transaction.atomic
def callback_cancel(*, case: Case, by: User | None, reason: str = "") -> CallbackBooking:
    """Cancel the booked callback: the promise is withdrawn and the slot is free again. The
    customer is written to as when it was booked (the email carries METHOD:CANCEL for the
    calendar entry they were sent, so their calendar drops it)."""
    case = lock_existing_case(case.pk)
    require_change(by, case)
    now = timezone.now()
    booking = _require_booking(case)
    booking.active = False
    booking.save(update_fields=["active"])
    words = _reason(case, by, reason, CANCELLED_WORDS)
    notice = None
    if _tells_customer(case, by):
        notice = CustomerNotice(
            template="withdrawn",
            dedupe_key=f"commitment:{booking.commitment_id}:withdrawn",
            extra={
                **promise_context(booking.commitment, case.customer.time_zone),
                "reason": words,
                "by_customer": by is None,
            },
            attachments=(
                commitment_ics(commitment=booking.commitment, case=case, now=now, cancel=True),
            ),
        )
    promise_end(
        commitment=booking.commitment,
        case=case,
        status=CommitmentStatus.WITHDRAWN,
        by=by,
        now=now,
        reason=words,
        data={"reason": words, **(BY_CUSTOMER if by is None else {})},
        notice=notice,
    )
    return booking
