"""Small template helpers shared by the pages: navigation and display labels."""

from __future__ import annotations

from typing import Any

from django import template

from cases.permissions import managed_team_ids

register = template.Library()


@register.simple_tag
def manages_a_team(user: Any) -> bool:
    """Whether the manager's audit belongs in the navigation (the set is cached per user)."""
    return bool(getattr(user, "is_authenticated", False) and managed_team_ids(user))


@register.filter
def person(user: Any) -> str:
    """A user's display name as customers and colleagues see it."""
    if user is None:
        return ""
    profile = getattr(user, "agent_profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


@register.filter
def humanize_code(value: str) -> str:
    """``back_to_previous_owner`` → ``back to previous owner`` for flags and kinds."""
    return str(value or "").replace("_", " ")


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
