"""Reads the HTML pages and the customer link need beyond ``cases.selectors``.

Each one runs a fixed number of queries whatever the amount of data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases import hooks, selectors
from cases.links import read_customer_token
from cases.models import Case, CaseEvent, Handoff, HandoffStatus
from cases.services import owner_contact


@dataclass
class QueueRow:
    case: Case
    flags: list[str] = field(default_factory=list)


def queue_page(*, user: Any, page: str | int | None, per_page: int = 25) -> tuple[Page, list]:
    """One page of My queue with each row's overdue / at-risk flags."""
    paginator = Paginator(selectors.queue_for(user=user), per_page)
    page_obj = paginator.get_page(page)
    cases = list(page_obj.object_list)
    flags = selectors.queue_flags(cases=cases, now=timezone.now())
    return page_obj, [
        QueueRow(
            case=c,
            flags=[name for name in ("overdue", "at_risk") if getattr(flags[c.pk], name)],
        )
        for c in cases
    ]


def timeline_page(
    *, case: Case, before: str | None, limit: int = 30
) -> tuple[list[CaseEvent], str | None]:
    """A page of the timeline, newest first, and the cursor of the next (older) page.

    The cursor is ``<at ISO>~<id>`` so events written in the same instant are never skipped
    between pages; the index ``caseevent_case_at`` (case, -at, -id) serves it.
    """
    qs = case.events.select_related("actor", "actor__agent_profile").order_by("-at", "-id")
    at_text, _, id_text = (before or "").partition("~")
    at = parse_datetime(at_text) if at_text else None
    if at is not None and id_text.isdigit():
        qs = qs.filter(Q(at__lt=at) | Q(at=at, id__lt=int(id_text)))
    elif at is not None:
        qs = qs.filter(at__lt=at)
    events = list(qs[: limit + 1])
    more = len(events) > limit
    events = events[:limit]
    last = events[-1] if events else None
    return events, (f"{last.at.isoformat()}~{last.pk}" if more and last else None)


# --- the customer's page --------------------------------------------------------------------


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
    # (the same rule as ``handoff_selectors.handoff_pending_acknowledgement``, without a
    # second query).
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
        promises=hooks.collect_customer_promises(case),
        owner_changes=list(reversed(changes)),
        to_acknowledge=to_ack,
    )
