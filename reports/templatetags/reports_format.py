"""Figures as the report pages print them."""

from __future__ import annotations

from django import template

from reports.charts import duration, percent

register = template.Library()


@register.filter
def duration_words(seconds: float | None) -> str:
    """``1 min 23 s``, ``6 h``, ``2 h 30 min``: the same units for a target and the figures
    beside it (``reports.charts.duration``); a dash for no value."""
    return duration(None if seconds is None else float(seconds))


@register.filter
def rate(value: float | None) -> str:
    """``67%`` for 0.667; a dash for no value."""
    return percent(value)
