"""Small template helpers shared by the pages: navigation and display labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, gettext_noop

from cases.models import HandoffReason
from cases.permissions import manages_any_team
from cases.recipients import display_name

register = template.Library()

# The codes pages show as words (statuses, priorities, channels, flags, kinds), for the
# catalogue: ``humanize_code`` reads each in the reader's language.
CODE_WORDS = (
    gettext_noop("open"),
    gettext_noop("waiting on customer"),
    gettext_noop("resolved"),
    gettext_noop("closed"),
    gettext_noop("low"),
    gettext_noop("normal"),
    gettext_noop("high"),
    gettext_noop("urgent"),
    gettext_noop("phone"),
    gettext_noop("email"),
    gettext_noop("chat"),
    gettext_noop("social"),
    gettext_noop("web"),
    gettext_noop("in person"),
    gettext_noop("kept"),
    gettext_noop("renegotiated"),
    gettext_noop("withdrawn"),
    gettext_noop("missed"),
    gettext_noop("overdue"),
    gettext_noop("at risk"),
    gettext_noop("customer replied"),
    gettext_noop("notice undelivered"),
    gettext_noop("back to previous owner"),
    gettext_noop("fourth owner"),
    gettext_noop("carried commitment missed"),
    gettext_noop("on duty"),
    gettext_noop("backup"),
)
MATCH_WORDS = {
    "email": gettext_noop("email matches"),
    "phone": gettext_noop("phone matches"),
    "name": gettext_noop("name matches"),
    "ref": gettext_noop("reference matches"),
    "subject": gettext_noop("subject matches"),
}


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
    """``back_to_previous_owner`` → ``back to previous owner`` for flags and kinds, in the
    reader's language when the catalogue has the words (``CODE_WORDS``)."""
    words = str(value or "").replace("_", " ")
    return gettext(words) if words else words


@register.filter
def match_label(value: str) -> str:
    """What a search hit matched on (``email`` → "email matches"), in the reader's language."""
    words = MATCH_WORDS.get(str(value))
    return gettext(words) if words else f"{value} matches"
