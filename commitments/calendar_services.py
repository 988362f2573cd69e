"""Teams' business calendars: reading one (a default when the team has none) and the shape of
a change to it (made by ``commitments.calendar_changes``). The business-time arithmetic
itself is pure, in ``commitments.calendars``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from caseowner.process_cache import ProcessCache
from commitments.calendars import Calendar
from commitments.models import BusinessCalendar, ClosedDay

# Every write on a case reads its team's calendar; it changes a few times a year.
_ROWS: ProcessCache[BusinessCalendar | None] = ProcessCache("business-calendars")


def business_calendar_of(team: Any) -> BusinessCalendar:
    """The team's calendar row, or an unsaved default one (Mon–Fri 09–17, no holidays).
    Kept in the process (``caseowner.process_cache``): a copy of it for ``team``, with its
    closed days, read afresh after any calendar or closed day changed."""
    if team.pk is None or type(team).calendar.is_cached(team):  # read or set already
        try:
            return team.calendar
        except BusinessCalendar.DoesNotExist:
            return BusinessCalendar(team=team)
    row = _ROWS.get(team.pk, lambda: _read(team.pk))
    if row is None:
        return BusinessCalendar(team=team)
    fresh = BusinessCalendar(
        **{f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}
    )
    fresh._state.adding, fresh._state.db = False, row._state.db
    for computed in ("_closed_days", "_holidays"):
        fresh.__dict__[computed] = row.__dict__[computed]
    fresh.team = team
    return fresh


def _read(team_id: int) -> BusinessCalendar | None:
    row = BusinessCalendar.objects.filter(team_id=team_id).first()
    if row is not None:
        _ = row._closed_days, row._holidays  # read once, kept with the row
    return row


@receiver(post_save, sender=BusinessCalendar, dispatch_uid="business_calendar_saved")
@receiver(post_delete, sender=BusinessCalendar, dispatch_uid="business_calendar_deleted")
@receiver(post_save, sender=ClosedDay, dispatch_uid="closed_day_saved")
@receiver(post_delete, sender=ClosedDay, dispatch_uid="closed_day_deleted")
def _calendar_changed(**kwargs: object) -> None:
    _ROWS.changed()


def team_calendar(team: Any) -> Calendar:
    return business_calendar_of(team).as_calendar()


def first_response_calendar(team: Any, channel: str) -> Calendar | None:
    """The one clock a channel's first-response target runs on, for the promise and every
    report alike; None: clock time.

    On a promise channel (email, web, social) it is the team's business time: the
    first-response promise falls due that many working hours after the opening, so a reply
    inside them is on time however many clock hours passed; on a live channel it is clock
    time unless the team chooses business time (``Team.first_response_business_time``). A
    calendar with no working hours is clock time (the promise then falls due in clock time
    too)."""
    if team.first_response_is_live(channel) and not team.first_response_business_time:
        return None
    calendar = team_calendar(team)
    return calendar if calendar.standard_day > timedelta() else None


@dataclass(frozen=True)
class CalendarSettings:
    """A change to a team's calendar; None leaves a setting as it is."""

    weekly_hours: dict[str, list[list[str]]] | None = None
    around_the_clock: bool | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    reminder_leads: list[str] | None = None
    closed_days: list[tuple[date, str]] | None = None  # replaces the list when given
    # Callbacks the customer books: slot length, business minutes ahead, per agent per day.
    callback_slot_minutes: int | None = None
    callback_lead_minutes: int | None = None
    callback_daily_cap: int | None = None
