"""The team settings page's reads: the history of changes, each setting written as a manager
reads it ("Mon 09:00–17:00", "Email 1 h")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cases.models import AssignmentRule, Channel, Team
from cases.recipients import display_name
from reports.models import TeamSettingsChange

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

LABELS = {
    "weekly_hours": "Weekly hours",
    "around_the_clock": "Around the clock",
    "holiday_country": "Holiday country",
    "holiday_subdivision": "Holiday region",
    "closed_days": "Closed days",
    "reminder_leads": "Reminder lead times",
    "first_response_seconds": "First-response targets",
    "live_response_threshold_seconds": "Live channels: targets under",
    "first_response_business_time": "First response in business time",
    "first_response_goal_percent": "First-response goal",
    "handoff_accept_minutes": "Hand-off wait",
    "assignment_rule": "Assignment rule",
    "callback_slot_minutes": "Callback slot length (minutes)",
    "callback_lead_minutes": "Callbacks booked at least (business minutes ahead)",
    "callback_daily_cap": "Callbacks per agent per day",
    "follow_up_after_days": "A reply reopens a resolved case for",
}


def duration_text(seconds: int) -> str:
    """3600 → "1 h", 90 → "1 min 30 s": short, exact."""
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {unit}")
    return " ".join(parts) or "0 s"


def hours_text(weekly: dict[str, list[list[str]]]) -> str:
    days = [
        f"{DAYS[int(day)]} {', '.join(f'{a}–{b}' for a, b in weekly[day])}"
        for day in sorted(weekly, key=int)
        if weekly[day]
    ]
    return "; ".join(days) or "none"


def setting_text(key: str, value: Any) -> str:
    """One setting's value from the history's JSON, as the page shows it."""
    if key == "weekly_hours":
        return hours_text(value)
    if key == "live_response_threshold_seconds":
        return duration_text(int(value))
    if key == "first_response_goal_percent":
        return f"{value} %"
    if key in ("around_the_clock", "first_response_business_time"):
        return "yes" if value else "no"
    if key == "closed_days":
        days = [f"{date.fromisoformat(d):%a %-d %b %Y}{f' ({n})' if n else ''}" for d, n in value]
        return ", ".join(days) or "none"
    if key == "reminder_leads":
        return ", ".join(value) or "none"
    if key == "first_response_seconds":
        targets = [f"{Channel(c).label} {duration_text(s)}" for c, s in sorted(value.items())]
        return ", ".join(targets) or "the benchmarks"
    if key == "handoff_accept_minutes":
        return duration_text(int(value) * 60)
    if key == "assignment_rule":
        return str(AssignmentRule(value).label)
    if key == "follow_up_after_days":
        return f"{value} days"
    return str(value) or "none"


@dataclass(frozen=True)
class ChangeLine:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeRow:
    changed_at: datetime
    changed_by: str
    lines: list[ChangeLine]


def team_settings_history(*, team: Team, limit: int = 20) -> list[ChangeRow]:
    """The team's latest settings changes, newest first; one query."""
    rows = (
        TeamSettingsChange.objects.filter(team=team)
        .select_related("changed_by__agent_profile")
        .order_by("-changed_at", "-id")[:limit]
    )
    out = []
    for row in rows:
        name = display_name(row.changed_by)
        lines = [
            ChangeLine(
                label=LABELS.get(key, key),
                before=setting_text(key, row.before.get(key)),
                after=setting_text(key, row.after[key]),
            )
            for key in LABELS
            if key in row.after
        ]
        out.append(ChangeRow(changed_at=row.changed_at, changed_by=name, lines=lines))
    return out
