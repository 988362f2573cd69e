"""Teams' business calendars: reading one (a default when the team has none) and the shape of
a change to it (made by ``commitments.calendar_changes``). The business-time arithmetic
itself is pure, in ``commitments.calendars``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from commitments.calendars import Calendar
from commitments.models import BusinessCalendar


def business_calendar_of(team: Any) -> BusinessCalendar:
    """The team's calendar row, or an unsaved default one (Mon–Fri 09–17, no holidays)."""
    try:
        return team.calendar
    except BusinessCalendar.DoesNotExist:
        return BusinessCalendar(team=team)


def team_calendar(team: Any) -> Calendar:
    return business_calendar_of(team).as_calendar()


@dataclass(frozen=True)
class CalendarSettings:
    """A change to a team's calendar; None leaves a setting as it is."""

    weekly_hours: dict[str, list[list[str]]] | None = None
    around_the_clock: bool | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    reminder_leads: list[str] | None = None
    closed_days: list[tuple[date, str]] | None = None  # replaces the list when given
