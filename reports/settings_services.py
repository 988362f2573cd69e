"""A team's settings, changed by its managers in one place.

The settings are the team's business calendar and reminder lead times (owned by
``commitments``: changing them moves the reminders already queued for the team's open
promises) and the team's own fields: first-response targets per channel, the live threshold
under which a target is a measured service level rather than a promise, whether first
response is measured in business time, the goal percentage, how long a hand-off offer may
wait, and the assignment rule. ``team_settings_update`` changes any of them in one
transaction and records a ``TeamSettingsChange`` with the settings that changed, before and
after; bad input writes nothing, and every field's errors come back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import holidays
from django.db import transaction

from caseowner.types import User
from cases.models import AssignmentRule, Channel, Team
from cases.permissions import is_team_manager
from commitments.calendar_changes import business_calendar_update
from commitments.calendar_services import CalendarSettings, business_calendar_of
from commitments.errors import CommitmentRuleError
from reports.errors import ReportRuleError
from reports.models import TeamSettingsChange

# A first reply promised more than a week out, or an offer left waiting longer than a week,
# is a typing slip, not a policy.
MAX_FIRST_RESPONSE_SECONDS = 7 * 24 * 3600
MAX_HANDOFF_ACCEPT_MINUTES = 7 * 24 * 60
# A reply to a resolved case reopens it for at most a year; later it is a follow-up case.
MAX_FOLLOW_UP_AFTER_DAYS = 365

CALENDAR_KEYS = (
    "weekly_hours",
    "around_the_clock",
    "holiday_country",
    "holiday_subdivision",
    "closed_days",
    "reminder_leads",
    "callback_slot_minutes",
    "callback_lead_minutes",
    "callback_daily_cap",
)
TEAM_KEYS = (
    "first_response_seconds",
    "live_response_threshold_seconds",
    "first_response_business_time",
    "first_response_goal_percent",
    "handoff_accept_minutes",
    "assignment_rule",
    "follow_up_after_days",
)
# A live threshold past a day would make every channel "live": a typing slip, not a policy.
MAX_LIVE_THRESHOLD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TeamSettings:
    """A change to a team's settings; None leaves a setting as it is.

    ``first_response_seconds`` replaces the team's per-channel overrides: a channel left out
    uses the product's benchmark (``cases.models.DEFAULT_FIRST_RESPONSE_SECONDS``).
    """

    calendar: CalendarSettings | None = None
    first_response_seconds: dict[str, int] | None = None
    # A channel whose target is under this is live: measured, never promised to the customer.
    live_response_threshold_seconds: int | None = None
    # Measure first response in the team's business time instead of clock time.
    first_response_business_time: bool | None = None
    # The share of cases to answer within target, in percent (1–100).
    first_response_goal_percent: int | None = None
    handoff_accept_minutes: int | None = None
    assignment_rule: str | None = None
    # Days after its resolution a customer's email still reopens a case (later: a follow-up).
    follow_up_after_days: int | None = None


def team_settings_snapshot(team: Team) -> dict[str, Any]:
    """Every setting of the page as JSON values: what the history records and the form shows."""
    calendar = business_calendar_of(team)
    closed = (
        [[d.isoformat(), name] for d, name in calendar.closed_days.values_list("day", "name")]
        if calendar.pk
        else []
    )
    return {
        "weekly_hours": calendar.weekly_hours,
        "around_the_clock": calendar.around_the_clock,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "closed_days": closed,
        "reminder_leads": list(calendar.reminder_leads),
        "callback_slot_minutes": calendar.callback_slot_minutes,
        "callback_lead_minutes": calendar.callback_lead_minutes,
        "callback_daily_cap": calendar.callback_daily_cap,
        "first_response_seconds": dict(sorted(team.first_response_seconds.items())),
        "live_response_threshold_seconds": team.live_response_threshold_seconds,
        "first_response_business_time": team.first_response_business_time,
        "first_response_goal_percent": team.first_response_goal_percent,
        "handoff_accept_minutes": team.handoff_accept_minutes,
        "assignment_rule": team.assignment_rule,
        "follow_up_after_days": team.follow_up_after_days,
    }


def _calendar_wanted(changes: CalendarSettings) -> dict[str, Any]:
    """The calendar settings the change gives, in the snapshot's shape."""
    wanted = {
        key: getattr(changes, key)
        for key in CALENDAR_KEYS
        if key != "closed_days" and getattr(changes, key) is not None
    }
    if changes.closed_days is not None:
        wanted["closed_days"] = sorted([d.isoformat(), name] for d, name in changes.closed_days)
    return wanted


# The calendar's columns (``commitments.models.BusinessCalendar``).
HOLIDAY_COUNTRY_MAX = 8
HOLIDAY_SUBDIVISION_MAX = 16


def _holiday_errors(changes: CalendarSettings, before: dict[str, Any]) -> dict[str, list[str]]:
    """The holiday country and region as the calendar will hold them (upper case, so "ß"
    becomes "SS": the length is checked after): a country the ``holidays`` package knows,
    and a region that is one of that country's subdivisions."""
    country = changes.holiday_country
    region = changes.holiday_subdivision
    if country is None and region is None:
        return {}
    country = (before["holiday_country"] if country is None else country).strip().upper()
    region = (before["holiday_subdivision"] if region is None else region).strip().upper()
    supported = holidays.list_supported_countries()
    errors: dict[str, list[str]] = {}
    if len(country) > HOLIDAY_COUNTRY_MAX or (country and country not in supported):
        errors["holiday_country"] = ["Unknown country: use a code such as GB, DE or US."]
    if len(region) > HOLIDAY_SUBDIVISION_MAX:
        errors["holiday_subdivision"] = [
            f"Ensure this field has no more than {HOLIDAY_SUBDIVISION_MAX} characters."
        ]
    elif region and not country:
        errors["holiday_subdivision"] = ["A region needs its country."]
    elif region and "holiday_country" not in errors:
        known = {code.upper() for code in supported[country]}
        if region not in known:
            listed = ", ".join(sorted(known)[:12]) or "none"
            errors["holiday_subdivision"] = [f"Not a region of {country}: one of {listed}."]
    return errors


def _team_errors(changes: TeamSettings) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if changes.assignment_rule is not None and changes.assignment_rule not in AssignmentRule:
        errors["assignment_rule"] = [f"Choose one of: {', '.join(AssignmentRule.values)}."]
    minutes = changes.handoff_accept_minutes
    if minutes is not None and not 1 <= minutes <= MAX_HANDOFF_ACCEPT_MINUTES:
        errors["handoff_accept_minutes"] = [
            f"Between 1 and {MAX_HANDOFF_ACCEPT_MINUTES} minutes (a week)."
        ]
    days = changes.follow_up_after_days
    if days is not None and not 1 <= days <= MAX_FOLLOW_UP_AFTER_DAYS:
        errors["follow_up_after_days"] = [f"Between 1 and {MAX_FOLLOW_UP_AFTER_DAYS} days."]
    threshold = changes.live_response_threshold_seconds
    if threshold is not None and not 1 <= threshold <= MAX_LIVE_THRESHOLD_SECONDS:
        errors["live_response_threshold_seconds"] = ["Between 1 second and a day."]
    goal = changes.first_response_goal_percent
    if goal is not None and not 1 <= goal <= 100:
        errors["first_response_goal_percent"] = ["Between 1 and 100 percent."]
    for channel, seconds in (changes.first_response_seconds or {}).items():
        if channel not in Channel:
            errors.setdefault("first_response_seconds", []).append(f"No channel {channel!r}.")
        elif not isinstance(seconds, int) or not 1 <= seconds <= MAX_FIRST_RESPONSE_SECONDS:
            errors.setdefault("first_response_seconds", []).append(
                f"{Channel(channel).label}: between 1 second and a week."
            )
    return errors


@transaction.atomic
def team_settings_update(
    *, team: Team, by: User, changes: TeamSettings
) -> TeamSettingsChange | None:
    """A manager changes the team's settings. The calendar part goes through
    ``business_calendar_update`` (which moves queued reminders in this same transaction);
    the record names who changed what. Returns it, or None when nothing changed."""
    if not is_team_manager(by, team):
        raise ReportRuleError(
            "not_team_manager", "Only a manager of the team can change its settings.", status=403
        )
    locked = Team.objects.select_for_update().get(pk=team.pk)
    before = team_settings_snapshot(locked)
    errors = _team_errors(changes)
    holiday_errors = {} if changes.calendar is None else _holiday_errors(changes.calendar, before)
    errors.update(holiday_errors)
    # a region the calendar's column cannot hold is never written, even to be rolled back
    if changes.calendar is not None and not holiday_errors:
        wanted = _calendar_wanted(changes.calendar)
        if any(before[key] != value for key, value in wanted.items()):
            try:
                with transaction.atomic():
                    locked.calendar = business_calendar_update(
                        team=locked, by=by, changes=changes.calendar
                    )
            except CommitmentRuleError as exc:
                if not exc.fields:
                    raise ReportRuleError(exc.code, exc.message, status=exc.status_code) from None
                errors.update(exc.fields)
    if errors:
        raise ReportRuleError(
            "invalid_settings",
            "Some settings are not valid; nothing was changed.",
            fields=errors,
        )
    for key in TEAM_KEYS:
        value = getattr(changes, key)
        if value is not None:
            setattr(locked, key, value)
    locked.save(update_fields=list(TEAM_KEYS))
    after = team_settings_snapshot(locked)
    changed = [key for key in before if before[key] != after[key]]
    if not changed:
        return None
    team.refresh_from_db()
    return TeamSettingsChange.objects.create(
        team=locked,
        changed_by=by,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
