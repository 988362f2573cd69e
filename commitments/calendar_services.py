"""Teams' business calendars: reading one (a default when the team has none) and a manager's
change to it. The business-time arithmetic itself is pure, in ``commitments.calendars``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cases.permissions import is_team_manager
from commitments.calendars import Calendar
from commitments.errors import CommitmentRuleError
from commitments.models import BusinessCalendar, ClosedDay

User = Any  # the configured user model


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


@transaction.atomic
def business_calendar_update(*, team: Any, by: User, changes: CalendarSettings) -> BusinessCalendar:
    """A manager sets the team's working time. Promises already made keep their due times
    and reminders; new ones use the new calendar."""
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
    return row
