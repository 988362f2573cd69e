"""Hand-off data for tests: a summary that passes the gate, offers made through the service,
and rows written directly for reads and reports."""

from __future__ import annotations

import factory
from django.utils import timezone

from cases import hooks
from cases.handoff_services import HandoffSummary, handoff_offer
from cases.models import Handoff, HandoffReason, HandoffStatus
from tests.factories import CaseFactory, make_agent


def good_summary(**overrides: str) -> HandoffSummary:
    fields = {
        "customer_needs": "A refund of the duplicate charge of 42.50 on the March invoice.",
        "actions_taken": "Confirmed both charges with billing; refund request RF-88 raised today.",
        "customer_expectations": (
            "Promised the money back within five days; she is annoyed: 'I have asked twice'."
        ),
        "next_step": "Check RF-88 is approved on Thursday and tell the customer by phone.",
    }
    fields.update(overrides)
    return HandoffSummary(**fields)


def offer(case, *, by=None, to=None, reason=HandoffReason.SHIFT_END, **kwargs) -> Handoff:
    """An offer through the service (gate, flags, timing) from the case's owner by default,
    with every open commitment ticked as briefed unless the test says otherwise."""
    kwargs.setdefault("briefed_commitments", [c.id for c in hooks.collect_open_commitments(case)])
    return handoff_offer(
        case=case,
        by=by or case.owner,
        to=to or make_agent(case.team),
        summary=kwargs.pop("summary", None) or good_summary(),
        reason=reason,
        **kwargs,
    )


class HandoffFactory(factory.django.DjangoModelFactory):
    """A hand-off row written directly (no gate, no timeline): for reads and reports."""

    class Meta:
        model = Handoff

    case = factory.SubFactory(CaseFactory)
    from_agent = factory.LazyAttribute(lambda h: h.case.owner)
    to_agent = factory.LazyAttribute(lambda h: make_agent(h.case.team))
    offered_by = factory.LazyAttribute(lambda h: h.from_agent)
    reason = HandoffReason.SHIFT_END
    customer_needs = factory.LazyFunction(lambda: good_summary().customer_needs)
    actions_taken = factory.LazyFunction(lambda: good_summary().actions_taken)
    customer_expectations = factory.LazyFunction(lambda: good_summary().customer_expectations)
    next_step = factory.LazyFunction(lambda: good_summary().next_step)
    status = HandoffStatus.ACCEPTED
    offered_at = factory.LazyFunction(timezone.now)
    decided_at = factory.LazyAttribute(
        lambda h: h.offered_at if h.status != HandoffStatus.OFFERED else None
    )
