"""The team settings page's reads: the history of changes, each setting written as a manager
reads it ("Mon 09:00–17:00", "Email 1 h")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import AssignmentRule, Channel, Team
from cases.recipients import display_name
from reports.models import TeamSettingsChange

DAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]

LABELS = {
    "weekly_hours": gettext_lazy("Weekly hours"),
    "around_the_clock": gettext_lazy("Around the clock"),
    "holiday_country": gettext_lazy("Holiday country"),
    "holiday_subdivision": gettext_lazy("Holiday region"),
    "closed_days": gettext_lazy("Closed days"),
    "reminder_leads": gettext_lazy("Reminder lead times"),
    "callback_slot_minutes": gettext_lazy("Callback slot length (minutes)"),
    "callback_lead_minutes": gettext_lazy("Callbacks booked at least (business minutes ahead)"),
    "callback_daily_cap": gettext_lazy("Callbacks per agent per day"),
    "first_response_seconds": gettext_lazy("First-response targets"),
    "live_response_threshold_seconds": gettext_lazy("Live channels: targets under"),
    "first_response_business_time": gettext_lazy("First response in business time"),
    "first_response_goal_percent": gettext_lazy("First-response goal"),
    "handoff_accept_minutes": gettext_lazy("Hand-off wait"),
    "assignment_rule": gettext_lazy("Assignment rule"),
    "follow_up_after_days": gettext_lazy("A reply reopens a resolved case for"),
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
    return "; ".join(days) or _("none")


def setting_text(key: str, value: Any) -> str:
    """One setting's value from the history's JSON, as the page shows it."""
    if key == "weekly_hours":
        return hours_text(value)
    if key == "live_response_threshold_seconds":
        return duration_text(int(value))
    if key == "first_response_goal_percent":
        return f"{value} %"
    if key in ("around_the_clock", "first_response_business_time"):
        return _("yes") if value else _("no")
    if key == "closed_days":
        days = [
            dateformat.format(date.fromisoformat(d), "D j M Y") + (f" ({n})" if n else "")
            for d, n in value
        ]
        return ", ".join(days) or _("none")
    if key == "reminder_leads":
        return ", ".join(value) or _("none")
    if key == "first_response_seconds":
        targets = [f"{Channel(c).label} {duration_text(s)}" for c, s in sorted(value.items())]
        return ", ".join(targets) or _("the benchmarks")
    if key == "handoff_accept_minutes":
        return duration_text(int(value) * 60)
    if key == "assignment_rule":
        return str(AssignmentRule(value).label)
    if key == "follow_up_after_days":
        return _("%(count)s days") % {"count": value}
    return str(value) or _("none")


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
                label=str(LABELS.get(key, key)),
                before=setting_text(key, row.before.get(key)),
                after=setting_text(key, row.after[key]),
            )
            for key in LABELS
            if key in row.after
        ]
        out.append(ChangeRow(changed_at=row.changed_at, changed_by=name, lines=lines))
    return out
