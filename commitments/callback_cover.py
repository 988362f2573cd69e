"""Booked callbacks follow their agent's availability (``hooks.availability_changed``) and
the case's owner (a hand-off).

An absence recorded after a callback was booked (or the "away now" switch) would leave the
customer waiting for a call nobody makes; so would a hand-off of the case to a new owner. In
the same transaction, each active booking of the agent inside the changed span moves to
whoever calls instead at that slot: the owner when present, else the cover
(``cases.availability.hours.owner_cover``). The promise stays the owner's, with its due time
(the customer was told it). When nobody is present, or the cover already has a call booked
then, the team's managers are alerted once per booking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from cases.availability.hours import agent_away, owner_cover
from cases.notices import local_time_text, staff_case_url
from cases.recipients import agent_recipient, owner_contact
from cases.services import case_event_record
from commitments.models import CallbackBooking, CommitmentStatus
from notifications.services import notification_enqueue

CALLBACK_MOVED = "callback_moved"


def _caller_at(case: Any, at: datetime) -> Any | None:
    """Who calls at ``at``: the owner when not away, else the cover; None: nobody."""
    if not agent_away(case.owner, at):
        return case.owner
    cover = owner_cover(owner=case.owner, team=case.team, at=at)
    return cover.agent if cover is not None else None


def on_availability_changed(
    *, agent: Any, start: datetime, end: datetime | None, now: datetime
) -> int:
    """Move the agent's booked callbacks in [start, end) to whoever calls then; returns how
    many moved (the others are alerted to the managers)."""
    bookings = CallbackBooking.objects.filter(
        agent=agent,
        active=True,
        commitment__status=CommitmentStatus.OPEN,
        starts_at__gte=max(start, now),
    )
    if end is not None:
        bookings = bookings.filter(starts_at__lt=end)
    moved = 0
    for booking in bookings.select_related("case__owner__agent_profile", "case__team", "agent"):
        caller = _caller_at(booking.case, booking.starts_at)
        if caller is not None and caller.pk == booking.agent_id:
            continue
        if caller is not None and _reassign(booking, caller):
            case_event_record(
                case=booking.case,
                kind=CALLBACK_MOVED,
                actor=None,
                at=now,
                data={
                    "commitment_id": booking.commitment_id,
                    "description": f"{owner_contact(caller)['name']} calls instead",
                    "from_agent_id": booking.agent_id,
                    "to_agent_id": caller.pk,
                },
            )
            moved += 1
            continue
        callback_uncovered_alert(booking=booking)
    return moved


def on_handoff_accepted(*, case: Any, handoff: Any, now: datetime) -> None:
    """Called by ``handlers.on_handoff_accepted`` when a callback promise moved with the case
    (a hand-off without one reads nothing more): the new owner makes the booked callback
    (their cover while they are away then); when the new owner already has a call at that
    time, or nobody is present, the managers hear."""
    booking = (
        CallbackBooking.objects.filter(
            case=case, active=True, commitment__status=CommitmentStatus.OPEN, starts_at__gt=now
        )
        .select_related("agent")
        .first()
    )
    if booking is None:
        return
    booking.case = case
    caller = _caller_at(case, booking.starts_at)
    if caller is not None and (caller.pk == booking.agent_id or _reassign(booking, caller)):
        return
    callback_uncovered_alert(booking=booking)


def _reassign(booking: CallbackBooking, caller: Any) -> bool:
    """Give the slot to ``caller``; False when they already have a call booked then."""
    try:
        with transaction.atomic():
            CallbackBooking.objects.filter(pk=booking.pk).update(agent=caller)
    except IntegrityError:
        return False
    return True


def callback_uncovered_alert(*, booking: CallbackBooking) -> None:
    """Each active manager of the case's team hears, once per booking and agent, that a booked
    callback has nobody to make it."""
    case = booking.case
    tz_name = case.team.time_zone
    for manager in case.team.managers.filter(is_active=True).order_by("pk"):
        notification_enqueue(
            recipient=agent_recipient(manager, kind="manager"),
            template="commitments/email/callback_uncovered",
            context={
                "manager_name": owner_contact(manager)["name"],
                "agent_name": owner_contact(booking.agent)["name"],
                "case_ref": case.ref,
                "case_url": staff_case_url(case),
                "starts": local_time_text(booking.starts_at, tz_name),
            },
            dedupe_key=(f"callback:{booking.pk}:uncovered:{booking.agent_id}:manager:{manager.pk}"),
            tags=[f"case:{case.pk}"],
        )
