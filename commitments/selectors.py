"""Reads on commitments: each one a fixed number of queries, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from caseowner.bound import Statement, any_of
from cases.hooks import CustomerPromise, PromiseBrief, QueueFlags
from cases.models import Case
from cases.overdue import is_overdue, not_yet_due_q, overdue_q
from cases.permissions import visible_cases
from cases.recipients import display_name
from commitments.errors import NotFoundError
from commitments.models import (
    CUSTOMER_KINDS,
    Commitment,
    CommitmentStatus,
    is_customer_kind,
)

OPEN = CommitmentStatus.OPEN


def commitment_list(*, case: Case) -> QuerySet[Commitment]:
    """A case's promises, earliest due first, with the owner's profile joined."""
    return (
        Commitment.objects.filter(case=case)
        .select_related("case", "owner", "owner__agent_profile")
        .order_by("due_at", "pk")
    )


def commitment_get_for_user(*, user: Any, pk: int) -> Commitment:
    """A commitment the user may see (its case is visible), else not found — other teams'
    promises are indistinguishable from missing ones."""
    commitment = (
        Commitment.objects.filter(pk=pk, case__in=visible_cases(user))
        .select_related("case", "case__team", "owner", "owner__agent_profile")
        .first()
    )
    if commitment is None:
        raise NotFoundError("No such commitment.")
    return commitment


def queue_flags_of_open(
    *, case_ids: Iterable[int], now: datetime | None = None
) -> dict[int, QueueFlags]:
    """The flags of the cases that have open promises (the others are left out, so a caller
    can fall back to its own rule for them); the ``cases.hooks.queue_flags`` handler."""
    now = now or timezone.now()
    ids = list(case_ids)
    flags: dict[int, QueueFlags] = {}
    if not ids:
        return flags
    for row in _QUEUE_FLAGS.rows(ids=ids, now=now):
        flags[row["case_id"]] = QueueFlags(overdue=row["overdue"] > 0, at_risk=row["at_risk"] > 0)
    return flags


def _queue_flags(cases: Any, now: datetime) -> QuerySet[Any]:
    return (
        Commitment.objects.filter(cases, status=OPEN)
        .values("case_id")
        .annotate(
            overdue=Count("pk", filter=overdue_q(now)),
            at_risk=Count(
                "pk",
                filter=Q(at_risk_from__lte=now, confirmed_on_track_at__isnull=True)
                & not_yet_due_q(now),
            ),
        )
        .order_by()
    )


# The queue's flags: a statement written once, the page's case ids bound as one array.
_QUEUE_FLAGS = Statement(
    lambda ids, now: _queue_flags(any_of("case_id", ids), now),
    elsewhere=lambda ids, now: _queue_flags(Q(case_id__in=ids), now),
    ids=list,
    now=datetime,
)


def commitment_flags(commitment: Commitment, *, now: datetime) -> QueueFlags:
    """Overdue: open and past due. At risk: open, inside its last reminder lead time, and
    not confirmed on track by its owner."""
    if commitment.status != OPEN:
        return QueueFlags()
    return QueueFlags(
        overdue=is_overdue(commitment.due_at, now),
        at_risk=commitment.at_risk_from <= now
        and not is_overdue(commitment.due_at, now)
        and commitment.confirmed_on_track_at is None,
    )


def commitment_payload(commitment: Commitment) -> dict:
    """A promise as integrators see it in webhooks (the API's field names, JSON-ready)."""
    return {
        "id": commitment.pk,
        "case": commitment.case.ref,
        "owner": {"id": commitment.owner_id},
        "description": commitment.description,
        "kind": commitment.kind,
        "due_at": iso(commitment.due_at),
        "status": commitment.status,
        "ended_at": iso(commitment.ended_at),
        "end_reason": commitment.end_reason,
        "successor": commitment.successor_id,
    }


def commitment_as_dict(commitment: Commitment, *, now: datetime | None = None) -> dict:
    """A promise as the API shows it: the webhook payload, the owner's name, derived flags."""
    now = now or timezone.now()
    flags = commitment_flags(commitment, now=now)
    return {
        **commitment_payload(commitment),
        "owner": {
            "id": commitment.owner_id,
            "name": display_name(commitment.owner),
        },
        "made_in_business_time": commitment.made_in_business_time,
        "within": commitment.business_duration,
        "confirmed_on_track_at": iso(commitment.confirmed_on_track_at),
        "made_at": iso(commitment.made_at),
        "overdue": flags.overdue,
        "at_risk": flags.at_risk,
    }


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the API and webhooks give datetimes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


# --- handlers registered in cases.hooks --------------------------------------------------------


def open_commitments_brief(*, case: Case) -> list[PromiseBrief]:
    """Open promises to brief in a hand-off, soonest first; each says whether it is the
    customer's (``OWNER_KINDS`` are the owner's own follow-ups)."""
    rows = (
        Commitment.objects.filter(case=case, status=OPEN)
        .order_by("due_at", "pk")
        .values_list("pk", "description", "due_at", "kind")
    )
    return [
        PromiseBrief(id=pk, description=text, due_at=due, customers=is_customer_kind(kind))
        for pk, text, due, kind in rows
    ]


def open_commitments_brief_many(*, cases: list[Case]) -> dict[int, list[PromiseBrief]]:
    """``open_commitments_brief`` of several cases in one query."""
    found: dict[int, list[PromiseBrief]] = {c.pk: [] for c in cases}
    rows = (
        Commitment.objects.filter(case_id__in=list(found), status=OPEN)
        .order_by("due_at", "pk")
        .values_list("case_id", "pk", "description", "due_at", "kind")
    )
    for case_id, pk, text, due, kind in rows:
        found[case_id].append(
            PromiseBrief(id=pk, description=text, due_at=due, customers=is_customer_kind(kind))
        )
    return found


def customer_promises(*, case: Case) -> list[CustomerPromise]:
    """The open promises the customer's page shows, soonest first: the customer's own, never
    the owner's follow-ups (``OWNER_KINDS``)."""
    rows = (
        Commitment.objects.filter(case=case, status=OPEN, kind__in=CUSTOMER_KINDS)
        .order_by("due_at", "pk")
        .values_list("description", "due_at")
    )
    return [CustomerPromise(description=text, due_at=due) for text, due in rows]


def case_detail_commitments(*, case: Case, user: Any) -> dict:
    """``{"commitments": [...]}`` for the case detail, in one query (a statement written
    once: ``commitment_list`` with the case bound)."""
    now = timezone.now()
    promises = _CASE_COMMITMENTS.objects(case_id=case.pk)
    return {"commitments": [commitment_as_dict(c, now=now) for c in promises]}


_CASE_COMMITMENTS = Statement(lambda case_id: commitment_list(case=Case(pk=case_id)), case_id=int)


def live_stamp_parts(*, case_ids: QuerySet, now: datetime, soon: datetime) -> dict[str, Any]:
    """The promises' part of the live stamp (a ``cases.hooks.live_stamp_parts`` handler):
    the open promises of the cases, and those past their at-risk instant, past ``soon`` and
    past due at ``now`` — so time passing alone moves the stamp when a flag turns."""
    from cases.live import packed

    open_ = Commitment.objects.filter(case_id__in=case_ids, status=OPEN)
    at_risk = Q(at_risk_from__lte=now, confirmed_on_track_at__isnull=True)
    return {
        "promises": packed(
            open_,
            "status",
            Count("pk"),
            Max("pk"),
            Count("pk", filter=at_risk),
            Count("pk", filter=Q(due_at__lte=soon)),
            Count("pk", filter=overdue_q(now)),
        )
    }
