"""Filters every message template may load (notifications is the lowest app)."""

from __future__ import annotations

from datetime import datetime

from django import template

from notifications.localtime import local_time_text

register = template.Library()


@register.filter
def local_time(moment: datetime | str | None, tz_name: str = "UTC") -> str:
    """``{{ due_at|local_time:customer_time_zone }}``: Friday 4 December 2026, 12:00 GMT."""
    return local_time_text(moment, tz_name or "UTC")
