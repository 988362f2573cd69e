"""Reads about customers: the case a signed link opens and what the customer may see of it,
and the intake form's customer picker. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import Q, QuerySet, When
from django.utils import timezone

from caseowner.errors import NotFoundError
from cases import hooks
from cases.customers.links import read_customer_token
from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Customer,
    CustomerMerge,
    Handoff,
    HandoffStatus,
)
from cases.permissions import visible_cases, visible_customers
from cases.recipients import PointOfContact, display_name, owner_contact, point_of_contact

# Customers the intake picker lists at most.
PICKER_SIZE = 50


@dataclass
class OwnerChange:
    """A change of owner as the customer sees it: names only. Only the current point of
    contact's direct details are ever shown, never a former owner's."""

    handoff: Handoff
    from_name: str
    to_name: str
    acknowledged: bool


@dataclass
class CustomerView:
    case: Case
    # The card of whom to reach now (``contacts.point_of_contact``).
    owner: dict
    # Who to reach now: the owner, or while they are away who covers (and their return).
    contact: PointOfContact
    promises: list[hooks.CustomerPromise]
    owner_changes: list[OwnerChange]
    # The latest accepted hand-off to the current owner that the customer has not yet
    # acknowledged, if any.
    to_acknowledge: Handoff | None


def customer_case_for_token(token: str) -> Case | None:
    """The case a customer link opens: None when the signature is bad, the link expired, its
    generation was revoked (``Case.link_generation`` moved on), or the case has been closed
    for longer than its team's ``customer_link_grace_days``. The grace is checked here, when
    the link is opened, so no sweep has to revoke anything."""
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
    if link_expired_after_close(case=case, now=timezone.now()):
        return None
    return case


def link_expired_after_close(*, case: Case, now: datetime) -> bool:
    """Closed for longer than the team's grace period (a reopened case has no ``closed_at``)."""
    if case.status != CaseStatus.CLOSED or case.closed_at is None:
        return False
    return now >= case.closed_at + timedelta(days=case.team.customer_link_grace_days)


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
            from_name=display_name(h.from_agent),
            to_name=display_name(h.to_agent),
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


def customer_choices(*, user: Any, query: str, chosen: int | None = None) -> list[tuple[int, str]]:
    """The intake picker: customers the user may see (``CUSTOMER_VISIBILITY``) matching the
    search by name or email (else the newest), with the one already chosen first when the
    list would leave it out; records merged into another are left out."""
    visible = visible_customers(user)
    qs = visible.filter(merged_into__isnull=True).order_by("-created_at", "-id")
    if query:
        qs = qs.filter(Q(full_name__icontains=query) | Q(email__icontains=query))
    options = [
        (c.pk, f"{c.full_name}" + (f" <{c.email}>" if c.email else ""))
        for c in qs.only("pk", "full_name", "email")[:PICKER_SIZE]
    ]
    if chosen and all(pk != chosen for pk, _ in options):
        picked = visible.filter(pk=chosen).only("pk", "full_name").first()
        if picked is not None:
            options.insert(0, (picked.pk, picked.full_name))
    return options


# --- the staff's reads of customer records ---------------------------------------------------

# Cases the customer page and the API's detail list, newest first.
CUSTOMER_CASES_SHOWN = 25


def customer_get(*, user: Any, pk: int) -> Customer:
    """A customer the user may see (tombstones too: they redirect), or NotFoundError."""
    customer = visible_customers(user).filter(pk=pk).first()
    if customer is None:
        raise NotFoundError("No such customer.")
    return customer


@dataclass(frozen=True)
class CustomerRecord:
    customer: Customer
    # Their cases the reader may see, open ones first, then newest.
    cases: list[Case]
    # Merges into this record not undone, newest first (the manager may undo them).
    merges_in: list[CustomerMerge]


def customer_record(*, user: Any, customer: Customer) -> CustomerRecord:
    """The customer with their cases and the merges into them: two queries (with the
    reader's teams cached)."""
    cases = list(
        visible_cases(user)
        .filter(customer_id=customer.pk)
        .select_related("owner__agent_profile", "team")
        .order_by(
            DbCase(When(status__in=OPEN_STATUSES, then=0), default=1),
            "-created_at",
            "-pk",
        )[:CUSTOMER_CASES_SHOWN]
    )
    merges = list(
        CustomerMerge.objects.filter(survivor_id=customer.pk, undone_at__isnull=True)
        .select_related("merged")
        .order_by("-at")[:20]
    )
    return CustomerRecord(customer=customer, cases=cases, merges_in=merges)


def customer_list(*, user: Any) -> QuerySet[Customer]:
    """Customers the user may see, live records first by name (the API's list)."""
    return visible_customers(user).order_by("full_name", "pk")
