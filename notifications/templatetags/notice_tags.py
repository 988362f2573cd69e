"""Filters every message template may load (notifications is the lowest app)."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR

from notifications.localtime import local_time_text

register = template.Library()


@register.filter
def local_time(moment: datetime | str | None, tz_name: str = "UTC") -> str:
    """``{{ due_at|local_time:customer_time_zone }}``: Friday 4 December 2026, 12:00 GMT."""
    return local_time_text(moment, tz_name or "UTC")


# An agent's hours as they typed them ("Mon–Fri 08:00–16:00 (London)"): the day names are
# written in the reader's language, from Django's own catalogue of them.
_DAY_NAMES = re.compile(
    r"\b(?:(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|(Mon|Tue|Wed|Thu|Fri|Sat|Sun))\b"
)
_FULL = dict(zip(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                  "Sunday"), range(7), strict=True))  # fmt: skip
_ABBR = dict(zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), range(7), strict=True))


@register.filter
def hours_text(text: str) -> str:
    """``{{ owner.working_hours|hours_text }}``: "Mon–Fri 08:00–16:00" as "Mo–Fr 08:00–16:00"
    in a German email; the rest as written."""

    def day(match: re.Match[str]) -> str:
        full, abbr = match.groups()
        return str(WEEKDAYS[_FULL[full]] if full else WEEKDAYS_ABBR[_ABBR[abbr]])

    return _DAY_NAMES.sub(day, text or "")
