"""Reads on the conversation: a case's contacts, and the mail waiting for staff to route."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Case, Contact, InboundMessage, InboundStatus


def case_contacts(*, case: Case) -> QuerySet[Contact]:
    """The case's contacts, newest first, with who spoke (index ``contact_case_at``)."""
    return (
        Contact.objects.filter(case=case)
        .select_related("agent", "agent__agent_profile")
        .order_by("-at", "-id")
    )


def inbound_unmatched() -> QuerySet[InboundMessage]:
    """Mail that matched no case, oldest first (index ``inbound_unmatched``); the raw bytes
    stay in the database."""
    return (
        InboundMessage.objects.filter(status=InboundStatus.UNMATCHED)
        .defer("raw")
        .order_by("received_at", "id")
    )
