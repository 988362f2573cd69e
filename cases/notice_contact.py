"""The point of contact in a customer notice: the owner's card and, while they are away, the
cover's, who signs and whose name the email comes from, and when the owner is back. Written
when the notice is queued and read again when it is sent (``point_of_contact_refresh``), so a
notice queued before a hand-off or an absence names whoever the customer should reach then."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from cases.models import Case
from cases.recipients import PointOfContact, point_of_contact

# The context marker of a customer notice: at send time ``point_of_contact_refresh`` names
# the point of contact as it is then (a hand-off or an absence since it was queued).
POINT_OF_CONTACT_MARKER = "point_of_contact_case_id"
POINT_OF_CONTACT_KEYS = (
    "owner",
    "covering",
    "cover",
    "owner_back",
    "next_due_by_cover",
    "from_name",
)


def without_point_of_contact_marker(context: dict) -> dict:
    """A context whose ``owner`` the sender fixes (a reply is signed by its writer)."""
    return {k: v for k, v in context.items() if k != POINT_OF_CONTACT_MARKER}


def point_of_contact_context(case: Case) -> dict:
    """The owner's card and, while they are away, the cover's: as they are now. While the
    owner is away their card keeps their name and title only: the cover's card is the one
    way to reach anyone that the email gives (never the away owner's direct email, phone or
    hours). The cover writes it and it comes from them (``from_name``, the sender's name)."""
    contact = point_of_contact(case=case, at=timezone.now())
    context: dict = {"owner": contact.owner}
    if contact.covering:
        context["owner"] = {**contact.owner, "email": "", "phone": "", "working_hours": ""}
        context.update(cover_context(contact, case.customer.time_zone))
        names = {"name": contact.contact["name"], "owner": contact.owner["name"]}
        with translation.override(case.customer.language or settings.LANGUAGE_CODE):
            signs = gettext("%(name)s, covering for %(owner)s") % names
        context["from_name"] = f"{signs} via {settings.ORGANISATION_NAME}"
    return context


def promised_while_away(context: dict) -> bool:
    """Does the notice's next step (``next_due_at``: the owner's call after an apology) fall
    while the owner is still away? Then the cover makes it, and the email says so; on or
    after the owner's return the owner makes it."""
    due, back = context.get("next_due_at") or "", context.get("owner_back") or ""
    if not (context.get("covering") and due):
        return False
    try:
        return not back or datetime.fromisoformat(due) < datetime.fromisoformat(back)
    except ValueError:
        return False


def point_of_contact_refresh(context: dict) -> dict:
    """At send time: the owner and cover keys of a customer notice as they are now (a notice
    queued before a hand-off names the new owner). A case gone leaves the context as it is."""
    case = (
        Case.objects.select_related("owner__agent_profile", "team", "customer")
        .filter(pk=int(context[POINT_OF_CONTACT_MARKER]))
        .first()
    )
    if case is None:
        return context
    fresh = {k: v for k, v in context.items() if k not in POINT_OF_CONTACT_KEYS}
    fresh.update(point_of_contact_context(case))
    if promised_while_away(fresh):
        fresh["next_due_by_cover"] = True
    return fresh


def cover_context(contact: PointOfContact, tz_name: str) -> dict:
    """The keys the email layout's cover sentence reads: ``covering``, ``cover`` (the
    cover's public card) and ``owner_back`` (the owner's return; the template writes it in
    the reader's zone and language)."""
    return {
        "covering": True,
        "cover": contact.contact,
        "owner_back": iso_or_empty(contact.owner_back_at),
    }


def iso_or_empty(moment: datetime | None) -> str:
    """A moment for a message's context (the ``local_time`` filter writes it when sent)."""
    return moment.isoformat() if moment is not None else ""
