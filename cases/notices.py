"""What the cases app's notices share: the customer email's context, times written in the
reader's zone, and the staff page a notice links to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from cases.contacts import owner_contact
from cases.links import customer_url
from cases.models import Case


def customer_context(case: Case) -> dict:
    """What every customer email needs: reference, greeting, owner and link."""
    return {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "customer_name": case.customer.salutation_name,
        "customer_time_zone": case.customer.time_zone,
        "owner": owner_contact(case.owner),
        "customer_url": customer_url(case_id=case.pk, generation=case.link_generation),
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
