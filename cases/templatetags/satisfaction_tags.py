"""The agent's own satisfaction figures, as a small include for their pages (one query)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from cases.satisfaction.selectors import agent_satisfaction

register = template.Library()


@register.inclusion_tag("cases/_my_satisfaction.html", takes_context=True)
def my_satisfaction(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"figures": agent_satisfaction(agent=user, now=timezone.now())}
