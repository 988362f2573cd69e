"""The team settings form: reads what a manager types into the shapes the service takes.

The rules (a day's intervals in order and apart, lead times that parse, a country the
holidays package knows, targets within a week) are the services' and the calendar model's;
the form only reads text, checks each weekday with the calendar's own parser so an error
lands on that day, and shows the service's field errors on the matching fields.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseowner import parsing
from cases.models import AssignmentRule, Channel
from cases.models.people import (
    DEFAULT_FIRST_RESPONSE_GOAL_PERCENT,
    DEFAULT_FIRST_RESPONSE_SECONDS,
    DEFAULT_LIVE_RESPONSE_THRESHOLD_SECONDS,
)
from commitments.calendar_services import CalendarSettings
from commitments.models import (
    CALLBACK_DAILY_CAP,
    CALLBACK_LEAD_MINUTES,
    CALLBACK_SLOT_MINUTES,
    BusinessCalendar,
)
from reports.settings_selectors import duration_text
from reports.settings_services import (
    MAX_FIRST_RESPONSE_SECONDS,
    MAX_FOLLOW_UP_AFTER_DAYS,
    MAX_HANDOFF_ACCEPT_MINUTES,
    MAX_LIVE_THRESHOLD_SECONDS,
    TeamSettings,
)

_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})\s*$")
_CLOSED = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(.*?)\s*$")
DAY_NAMES = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]


def _hours_field(day: int) -> forms.CharField:
    return forms.CharField(label=DAY_NAMES[day], required=False, max_length=200)


def _first_response_field(channel: str, label: str) -> forms.IntegerField:
    default = DEFAULT_FIRST_RESPONSE_SECONDS.get(channel, 6 * 3600)
    return forms.IntegerField(
        label=_("%(channel)s (minutes)") % {"channel": label},
        required=False,
        min_value=1,
        max_value=MAX_FIRST_RESPONSE_SECONDS // 60,
        help_text=_("Empty: the benchmark, %(target)s.") % {"target": duration_text(default)},
    )


class TeamSettingsForm(forms.Form):
    around_the_clock = forms.BooleanField(
        label=gettext_lazy("The team works around the clock (business time is plain elapsed time)"),
        required=False,
    )
    holiday_country = forms.CharField(
        label=gettext_lazy("Public holidays of"),
        required=False,
        max_length=8,
        help_text=gettext_lazy("Country code, e.g. GB, DE, US; empty for none."),
    )
    holiday_subdivision = forms.CharField(
        label=gettext_lazy("Region"),
        required=False,
        max_length=16,
        help_text=gettext_lazy("e.g. ENG, SCT for GB; BY for DE; empty for the whole country."),
    )
    closed_days = forms.CharField(
        label=gettext_lazy("Closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line, date then name: “2026-12-24 Christmas Eve”."),
    )
    reminder_leads = forms.CharField(
        label=gettext_lazy("Remind the owner before a promise is due"),
        max_length=200,
        help_text=gettext_lazy(
            "Comma-separated, e.g. “1 business day, 1 business hour”; the last one is "
            "also when a promise counts as at risk."
        ),
    )
    callback_slot_minutes = forms.IntegerField(
        required=False,
        label=gettext_lazy("Callback slot length (minutes)"),
        min_value=CALLBACK_SLOT_MINUTES[0],
        max_value=CALLBACK_SLOT_MINUTES[1],
        help_text=gettext_lazy("Customers book a call back in slots this long."),
    )
    callback_lead_minutes = forms.IntegerField(
        required=False,
        label=gettext_lazy("Callbacks booked at least (business minutes ahead)"),
        min_value=CALLBACK_LEAD_MINUTES[0],
        max_value=CALLBACK_LEAD_MINUTES[1],
    )
    callback_daily_cap = forms.IntegerField(
        required=False,
        label=gettext_lazy("Callbacks per agent per day"),
        min_value=CALLBACK_DAILY_CAP[0],
        max_value=CALLBACK_DAILY_CAP[1],
    )
    handoff_accept_minutes = forms.IntegerField(
        label=gettext_lazy("Hand-off wait (business minutes)"),
        min_value=1,
        max_value=MAX_HANDOFF_ACCEPT_MINUTES,
        help_text=gettext_lazy(
            "An offer waiting this long reminds the receiver; twice as long tells the managers."
        ),
    )
    assignment_rule = forms.ChoiceField(
        label=gettext_lazy("New cases go to"), choices=AssignmentRule.choices
    )
    follow_up_after_days = forms.IntegerField(
        label=gettext_lazy("A reply reopens a resolved case for (days)"),
        required=False,
        min_value=1,
        max_value=MAX_FOLLOW_UP_AFTER_DAYS,
        help_text=gettext_lazy(
            "Later, the customer's email opens a follow-up case with the same owner."
        ),
    )
    live_response_threshold = forms.IntegerField(
        label=gettext_lazy("Live channels: targets under (minutes)"),
        required=False,
        min_value=1,
        max_value=MAX_LIVE_THRESHOLD_SECONDS // 60,
        help_text=gettext_lazy(
            "A channel with a shorter target is measured as a service level and never "
            "promised to the customer. Empty: 15 minutes."
        ),
    )
    first_response_goal_percent = forms.IntegerField(
        label=gettext_lazy("Goal: cases answered within target (%)"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=gettext_lazy("Empty: 80 % (80 % answered within target)."),
    )
    first_response_business_time = forms.BooleanField(
        label=gettext_lazy(
            "Measure first response in business time (the team's calendar), not clock time"
        ),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in range(7):
            self.fields[f"hours_{day}"] = _hours_field(day)
        for channel, label in Channel.choices:
            self.fields[f"first_response_{channel}"] = _first_response_field(channel, str(label))

    @classmethod
    def initial_from(cls, snapshot: dict[str, Any]) -> dict[str, Any]:
        """The form's values from ``team_settings_snapshot``."""
        initial: dict[str, Any] = {
            key: snapshot[key]
            for key in (
                "around_the_clock",
                "holiday_country",
                "holiday_subdivision",
                "handoff_accept_minutes",
                "assignment_rule",
                "follow_up_after_days",
                "first_response_goal_percent",
                "first_response_business_time",
                "callback_slot_minutes",
                "callback_lead_minutes",
                "callback_daily_cap",
            )
        }
        initial["live_response_threshold"] = max(
            1, round(snapshot["live_response_threshold_seconds"] / 60)
        )
        weekly = snapshot["weekly_hours"]
        for day in range(7):
            intervals = weekly.get(str(day), [])
            initial[f"hours_{day}"] = ", ".join(f"{a}–{b}" for a, b in intervals)
        initial["closed_days"] = "\n".join(f"{d} {n}".strip() for d, n in snapshot["closed_days"])
        initial["reminder_leads"] = ", ".join(snapshot["reminder_leads"])
        for channel, seconds in snapshot["first_response_seconds"].items():
            initial[f"first_response_{channel}"] = max(1, round(seconds / 60))
        return initial

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in range(7)]

    def first_response_fields(self) -> list[forms.BoundField]:
        return [self[f"first_response_{channel}"] for channel in Channel.values]

    def calendar_fields(self) -> list[forms.BoundField]:
        names = ["around_the_clock", "holiday_country", "holiday_subdivision", "closed_days"]
        return [self[name] for name in names]

    def _clean_day(self, day: int) -> list[list[str]]:
        text = self.cleaned_data.get(f"hours_{day}", "")
        intervals = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _INTERVAL.match(part)
            if not match:
                raise forms.ValidationError(
                    _("Cannot read %(text)s: write “09:00–17:00”.") % {"text": repr(part)}
                )
            intervals.append([match[1].zfill(5), match[2].zfill(5)])
        try:  # the calendar's own reading: times, order, overlaps
            BusinessCalendar(weekly_hours={str(day): intervals}).parsed_weekly_hours()
        except (TypeError, ValueError):
            raise forms.ValidationError(
                _("Each interval opens before it closes, and they do not overlap.")
            ) from None
        return intervals

    def clean_closed_days(self) -> list[tuple[date, str]]:
        days = []
        for line in filter(None, (x.strip() for x in self.cleaned_data["closed_days"].split("\n"))):
            match = _CLOSED.match(line)
            try:
                day = date.fromisoformat(match[1]) if match else None
            except ValueError:
                day = None
            if day is None:
                raise forms.ValidationError(
                    _("Cannot read %(text)s: write “2026-12-24 Name”.") % {"text": repr(line)}
                )

            if problem := parsing.date_problem(day):
                raise forms.ValidationError(f"{line}: {problem}")
            days.append((day, match[2][:120] if match else ""))
        return days

    def clean_reminder_leads(self) -> list[str]:
        return [p.strip() for p in self.cleaned_data["reminder_leads"].split(",") if p.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weekly: dict[str, list[list[str]]] = {}
        for day in range(7):
            try:
                intervals = self._clean_day(day)
            except forms.ValidationError as exc:
                self.add_error(f"hours_{day}", exc)
            else:
                if intervals:
                    weekly[str(day)] = intervals
        data["weekly_hours"] = weekly
        return data

    def changes(self) -> TeamSettings:
        """What the service takes, from a valid form: every setting, as the page shows them
        all (the service records only those that changed)."""
        data = self.cleaned_data
        targets = {
            channel: data[f"first_response_{channel}"] * 60
            for channel in Channel.values
            if data.get(f"first_response_{channel}") is not None
        }
        return TeamSettings(
            calendar=CalendarSettings(
                weekly_hours=data["weekly_hours"],
                around_the_clock=data["around_the_clock"],
                holiday_country=data["holiday_country"].strip().upper(),
                holiday_subdivision=data["holiday_subdivision"].strip().upper(),
                reminder_leads=data["reminder_leads"],
                closed_days=data["closed_days"],
                callback_slot_minutes=data.get("callback_slot_minutes"),
                callback_lead_minutes=data.get("callback_lead_minutes"),
                callback_daily_cap=data.get("callback_daily_cap"),
            ),
            first_response_seconds=targets,
            live_response_threshold_seconds=(
                data["live_response_threshold"] * 60
                if data.get("live_response_threshold") is not None
                else DEFAULT_LIVE_RESPONSE_THRESHOLD_SECONDS
            ),
            first_response_business_time=bool(data.get("first_response_business_time")),
            first_response_goal_percent=(
                data["first_response_goal_percent"]
                if data.get("first_response_goal_percent") is not None
                else DEFAULT_FIRST_RESPONSE_GOAL_PERCENT
            ),
            handoff_accept_minutes=data["handoff_accept_minutes"],
            assignment_rule=data["assignment_rule"],
            follow_up_after_days=data.get("follow_up_after_days"),
        )
