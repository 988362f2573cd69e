"""How the product names a person and how to reach them: the one place for both.

Pages (the ``person`` filter), emails, the API and the customer's page all name people with
``display_name`` and show an owner with ``owner_contact``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from caseowner.types import User
from cases.availability.hours import owner_cover
from cases.models import AgentProfile, Case
from notifications.services import Recipient


def display_name(user: User, profile: AgentProfile | None = None) -> str:
    """Their profile's display name; without one (or with a blank one) their full name, else
    their username. ``profile``: theirs, when the caller has read it already."""
    if profile is None:
        profile = getattr(user, "agent_profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


def owner_contact(user: User) -> dict[str, str]:
    """The contact card a customer sees of the person who owns their case (JSON-ready):
    name, job title, direct email (else the account's email), direct phone, working hours.
    Nothing else of the account (username, login email when there is a direct one) shows."""
    profile: AgentProfile | None = getattr(user, "agent_profile", None)
    return {
        "name": display_name(user),
        "job_title": profile.job_title if profile else "",
        "email": (profile.direct_email if profile else "") or user.email,
        "phone": profile.direct_phone if profile else "",
        "working_hours": profile.working_hours if profile else "",
    }


def agent_recipient(user: User, kind: str = "agent") -> Recipient:
    """An agent or manager as the recipient of an internal notice."""
    contact = owner_contact(user)
    return Recipient(address=user.email or contact["email"], name=contact["name"], kind=kind)


def customer_recipient(case: Case) -> Recipient:
    return Recipient(address=case.customer.email, name=case.customer.full_name, kind="customer")


@dataclass(frozen=True)
class PointOfContact:
    """Who the customer should reach about their case at a moment: the owner, or whoever
    covers for them while they are away (accountability stays with the owner)."""

    owner: dict[str, str]  # the owner's public card (``owner_contact``)
    contact: dict[str, str]  # the card of the person to reach now
    covering: bool = False  # ``contact`` is someone covering for the owner
    owner_back_at: datetime | None = None  # when the owner is available again, if covering


def point_of_contact(*, case: Case, at: datetime) -> PointOfContact:
    """The one answer to "who do I talk to?" for the customer page and every customer
    notice, computed when it is shown or sent (never when a notice was queued): the owner,
    or while the owner is away (``cases.availability.hours``) their backup, else the team's
    on-duty agent, with the owner's return."""
    card = owner_contact(case.owner)
    cover = owner_cover(owner=case.owner, team=case.team, at=at)
    if cover is None:
        return PointOfContact(owner=card, contact=card)
    return PointOfContact(
        owner=card,
        contact=owner_contact(cover.agent),
        covering=True,
        owner_back_at=cover.owner_back_at,
    )
