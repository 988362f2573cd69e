"""Small template helpers shared by the pages: navigation and display labels."""

from __future__ import annotations

from typing import Any

from django import template

from cases.models import HandoffReason
from cases.permissions import manages_any_team
from cases.recipients import display_name

register = template.Library()


@register.simple_tag
def manages_a_team(user: Any) -> bool:
    """Whether the manager's audit belongs in the navigation: whoever may open it."""
    return bool(getattr(user, "is_authenticated", False) and manages_any_team(user))


@register.filter
def person(user: Any) -> str:
    """A user's display name as customers and colleagues see it."""
    return "" if user is None else display_name(user)


@register.filter
def reason_label(value: str) -> str:
    """A hand-off's reason code as people read it (``shift_end`` → "Shift end"); any other
    reason (a person's own words) as it is."""
    text = str(value or "")
    return str(HandoffReason(text).label) if text in HandoffReason.values else text


@register.filter
def humanize_code(value: str) -> str:
    """``back_to_previous_owner`` → ``back to previous owner`` for flags and kinds."""
    return str(value or "").replace("_", " ")
