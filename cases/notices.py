"""What the cases app's notices share: the customer email's context, times written in the
reader's zone, and the staff page a notice links to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from cases.availability import owner_back_text
from cases.contacts import PointOfContact, point_of_contact
from cases.links import customer_url
from cases.models import Case


def customer_context(case: Case) -> dict:
    """What every customer email needs: reference, greeting, owner and link; and, while the
    owner is away, who covers and until when (``cover`` and ``owner_back`` for the layout's
    cover sentence)."""
    contact = point_of_contact(case=case, at=timezone.now())
    context = {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "customer_name": case.customer.salutation_name,
        "customer_time_zone": case.customer.time_zone,
        "owner": contact.owner,
        "customer_url": customer_url(case_id=case.pk, generation=case.link_generation),
    }
    if contact.covering:
        context.update(cover_context(contact, case.customer.time_zone))
    return context


def cover_context(contact: PointOfContact, tz_name: str) -> dict:
    """The keys the email layout's cover sentence reads: ``covering``, ``cover`` (the
    cover's public card) and ``owner_back`` (the owner's return, in the reader's zone)."""
    return {
        "covering": True,
        "cover": contact.contact,
        "owner_back": owner_back_text(contact.owner_back_at, tz_name),
    }


def local_time_text(moment: datetime | None, tz_name: str) -> str:
    """``Friday 27 November 2026, 12:00 (Europe/London)``; an unknown zone reads as UTC."""
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = moment.astimezone(tz)
    return f"{local:%A %d %B %Y, %H:%M} ({tz_name})"


def staff_case_url(case: Case) -> str:
    """The case page, for notices to agents and managers."""
    return f"{settings.SITE_URL}/cases/{case.ref}/"
