"""Figures as the report pages print them."""

from __future__ import annotations

from django import template

from reports.charts import minutes, percent

register = template.Library()


@register.filter
def duration_words(seconds: float | None) -> str:
    """``45m`` under 99 minutes, else ``2.5h``; a dash for no value."""
    return minutes(None if seconds is None else float(seconds))


@register.filter
def rate(value: float | None) -> str:
    """``67%`` for 0.667; a dash for no value."""
    return percent(value)
