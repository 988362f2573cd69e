"""A manager's change to a team's calendar, and the reminders that follow it.

A team's managers change its working hours, holidays, closed days or reminder lead times;
the reminders already queued for its open promises were computed with the old ones, so they
are recomputed in the same transaction: pending reminders are cancelled and queued again at
their new times (a new ``reminder_generation``, so new dedupe keys), and the at-risk moment
moves with the last lead. Reminders already sent stay sent and are not sent again: a lead
whose new time is not after the latest reminder that went out (or after now) is skipped.
Due times never move: they are promises the customer was told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from caseowner.types import User
from cases.models import Case
from cases.permissions import is_team_manager
from commitments.calendar_services import CalendarSettings
from commitments.errors import CommitmentRuleError
from commitments.models import BusinessCalendar, ClosedDay, Commitment, CommitmentStatus
from commitments.scheduling import reminder_enqueue, reminder_leads
from notifications.models import DeliveryLog, Notification, NotificationStatus
from notifications.services import notification_cancel


@transaction.atomic
def business_calendar_update(*, team: Any, by: User, changes: CalendarSettings) -> BusinessCalendar:
    """A manager sets the team's working time and reminder lead times. Promises already made
    keep their due times (the customer was told them); their queued reminders move to the new
    calendar in the same transaction."""
    if not is_team_manager(by, team):
        raise CommitmentRuleError(
            "not_team_manager", "Only a manager of the team can change its calendar.", status=403
        )
    row = BusinessCalendar.objects.select_for_update().filter(team=team).first()
    row = row or BusinessCalendar(team=team)
    for name in (
        "weekly_hours",
        "around_the_clock",
        "holiday_country",
        "holiday_subdivision",
        "reminder_leads",
        "callback_slot_minutes",
        "callback_lead_minutes",
        "callback_daily_cap",
    ):
        value = getattr(changes, name)
        if value is not None:
            setattr(row, name, value)
    try:
        row.full_clean(exclude=["team"])
    except ValidationError as exc:
        raise CommitmentRuleError(
            "invalid_calendar",
            "The calendar has invalid settings.",
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None
    row.save()
    if changes.closed_days is not None:
        ClosedDay.objects.filter(calendar=row).delete()
        ClosedDay.objects.bulk_create(
            [ClosedDay(calendar=row, day=day, name=name) for day, name in changes.closed_days],
            ignore_conflicts=True,
        )
    team.calendar = row
    reminders_reschedule_for_team(team=team)
    return row


SENT = (NotificationStatus.SENT, NotificationStatus.SENDING)


def _last_reminder_sent(commitment: Commitment) -> datetime | None:
    """When the latest reminder of this promise was due to go out, among those that did."""
    prefix = f"commitment:{commitment.pk}:due:"
    times = [
        send_after
        for model in (Notification, DeliveryLog)
        for key, send_after in model.objects.filter(
            dedupe_key__startswith=prefix, status__in=SENT
        ).values_list("dedupe_key", "send_after")
        if ":reminder:" in key or ":at-risk:" in key
    ]
    return max(times, default=None)


def reminders_reschedule_for_team(*, team: Any, now: datetime | None = None) -> int:
    """Recompute the reminders of the team's open promises; returns how many were queued.

    Call it inside the transaction that changed the calendar or the leads, with the same
    ``team`` object (its ``calendar`` is read). Cases are locked before their promises, the
    order every commitment service uses.
    """
    now = now or timezone.now()
    # PostgreSQL locks no DISTINCT result: lock the team's cases that have an open promise
    # through a subquery, in key order (the order every commitment service locks in).
    with_open = Commitment.objects.filter(status=CommitmentStatus.OPEN).values("case_id")
    case_ids = list(
        Case.objects.select_for_update()
        .filter(team=team, pk__in=with_open)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    commitments = list(
        Commitment.objects.select_for_update(of=("self",))
        .filter(case_id__in=case_ids, status=CommitmentStatus.OPEN)
        .select_related("case", "case__customer", "owner")
        .order_by("pk")
    )
    queued = 0
    for commitment in commitments:
        case = commitment.case
        case.team = team
        last_sent = _last_reminder_sent(commitment)
        notification_cancel(tag=f"commitment:{commitment.pk}")
        leads = reminder_leads(commitment=commitment, team=team)
        commitment.at_risk_from = leads[-1].send_at if leads else commitment.due_at
        commitment.reminder_generation = F("reminder_generation") + 1
        commitment.save(update_fields=["at_risk_from", "reminder_generation"])
        commitment.refresh_from_db(fields=["reminder_generation"])
        floor = max(now, last_sent) if last_sent else now
        for index, lead in enumerate(leads):
            if lead.send_at <= floor:
                continue
            at_risk = index == len(leads) - 1 and commitment.confirmed_on_track_at is None
            queued += reminder_enqueue(commitment=commitment, case=case, lead=lead, at_risk=at_risk)
    return queued
