"""Reads about customers: the case a signed link opens and what the customer may see of it,
and the intake form's customer picker. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from cases import hooks
from cases.contacts import PointOfContact, owner_contact, point_of_contact
from cases.links import read_customer_token
from cases.models import Case, Customer, Handoff, HandoffStatus

# Customers the intake picker lists at most.
PICKER_SIZE = 50


@dataclass
class OwnerChange:
    handoff: Handoff
    from_name: str
    to_contact: dict
    acknowledged: bool


@dataclass
class CustomerView:
    case: Case
    owner: dict
    # Who to reach now: the owner, or while they are away who covers (and their return).
    contact: PointOfContact
    promises: list[hooks.CustomerPromise]
    owner_changes: list[OwnerChange]
    # The latest accepted hand-off to the current owner that the customer has not yet
    # acknowledged, if any.
    to_acknowledge: Handoff | None


def customer_case_for_token(token: str) -> Case | None:
    """The case a customer link opens: None when the signature is bad, the link expired or
    its generation was revoked (``Case.link_generation`` moved on)."""
    read = read_customer_token(token)
    if read is None:
        return None
    case_id, generation = read
    case = (
        Case.objects.select_related("customer", "team", "owner__agent_profile")
        .filter(pk=case_id)
        .first()
    )
    if case is None or case.link_generation != generation:
        return None
    return case


def customer_view(*, case: Case) -> CustomerView:
    """Only what the customer may see: owner, open promises, owner changes. No notes."""
    handoffs = list(
        Handoff.objects.filter(case=case, status=HandoffStatus.ACCEPTED)
        .select_related("from_agent__agent_profile", "to_agent__agent_profile")
        .order_by("decided_at", "id")
    )
    changes = [
        OwnerChange(
            handoff=h,
            from_name=owner_contact(h.from_agent)["name"],
            to_contact=owner_contact(h.to_agent),
            acknowledged=h.customer_acknowledged_at is not None,
        )
        for h in handoffs
    ]
    # The hand-off that made the current owner, while the customer has not acknowledged it
    # (``handoff_customer_acknowledge`` acknowledges the same one).
    latest = max(handoffs, key=lambda h: (h.decided_at, h.pk), default=None)
    to_ack = (
        latest
        if latest is not None
        and latest.to_agent_id == case.owner_id
        and latest.customer_acknowledged_at is None
        else None
    )
    return CustomerView(
        case=case,
        owner=owner_contact(case.owner),
        contact=point_of_contact(case=case, at=timezone.now()),
        promises=hooks.collect_customer_promises(case),
        owner_changes=list(reversed(changes)),
        to_acknowledge=to_ack,
    )


def customer_choices(*, query: str, chosen: str | None = None) -> list[tuple[int, str]]:
    """The intake picker: customers matching the search by name or email (else the newest),
    with the one already chosen first when the list would leave it out."""
    qs = Customer.objects.order_by("-created_at", "-id")
    if query:
        qs = qs.filter(Q(full_name__icontains=query) | Q(email__icontains=query))
    options = [
        (c.pk, f"{c.full_name}" + (f" <{c.email}>" if c.email else ""))
        for c in qs.only("pk", "full_name", "email")[:PICKER_SIZE]
    ]
    if chosen and chosen.isdigit() and all(str(pk) != chosen for pk, _ in options):
        picked = Customer.objects.filter(pk=int(chosen)).only("pk", "full_name").first()
        if picked is not None:
            options.insert(0, (picked.pk, picked.full_name))
    return options
