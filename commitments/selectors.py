"""Reads on commitments: each one a fixed number of queries, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases.hooks import CustomerPromise, PromiseBrief, QueueFlags
from cases.models import Case, Team
from cases.overdue import ended_on_time_q, is_overdue, not_yet_due_q, overdue_q
from cases.permissions import is_team_manager, team_ids_visible, visible_cases
from cases.recipients import display_name
from commitments.errors import CommitmentRuleError, NotFoundError
from commitments.models import (
    CUSTOMER_KINDS,
    Commitment,
    CommitmentStatus,
    is_customer_kind,
    zone,
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
    rows = (
        Commitment.objects.filter(case_id__in=ids, status=OPEN)
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
    for row in rows:
        flags[row["case_id"]] = QueueFlags(overdue=row["overdue"] > 0, at_risk=row["at_risk"] > 0)
    return flags


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
    """``{"commitments": [...]}`` for the case detail, in one query."""
    now = timezone.now()
    return {"commitments": [commitment_as_dict(c, now=now) for c in commitment_list(case=case)]}


# --- the commitments report ----------------------------------------------------------------------


MAX_REPORT_DAYS = 366
DEFAULT_REPORT_DAYS = 30


@dataclass(frozen=True)
class ReportPeriod:
    start: date
    end: date  # inclusive
    tz_name: str = "UTC"

    @classmethod
    def parse(cls, *, start: date | None, end: date | None, today: date) -> ReportPeriod:
        """The period a caller asked for: up to ``end`` (default today), from ``start``
        (default 30 days before), forwards and at most a year; dates whose day bounds fall
        outside the calendar (year 1, year 9999) are refused the same way, never a 500."""
        refused = CommitmentRuleError(
            "invalid_period",
            f"The period must run forwards, cover at most {MAX_REPORT_DAYS} days and lie "
            "between the years 1 and 9999.",
            fields={"from": ["Check the dates."], "to": ["Check the dates."]},
        )
        end = end or today
        try:
            start = start or end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
            period = cls(start=start, end=end)
            for bound in period.bounds():
                bound.astimezone(UTC)
        except OverflowError:
            raise refused from None
        if start > end or (end - start).days >= MAX_REPORT_DAYS:
            raise refused
        return period

    def bounds(self) -> tuple[datetime, datetime]:
        tz = zone(self.tz_name)
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz),
        )


def _figures() -> dict[str, Any]:
    return {
        "ended": Count("pk"),
        "kept": Count("pk", filter=Q(status=CommitmentStatus.KEPT)),
        "kept_on_time": Count("pk", filter=Q(status=CommitmentStatus.KEPT) & ended_on_time_q()),
        "renegotiated": Count("pk", filter=Q(status=CommitmentStatus.RENEGOTIATED)),
        "renegotiated_before_due": Count(
            "pk", filter=Q(status=CommitmentStatus.RENEGOTIATED) & ended_on_time_q()
        ),
        "withdrawn": Count("pk", filter=Q(status=CommitmentStatus.WITHDRAWN)),
        "missed": Count("pk", filter=Q(status=CommitmentStatus.MISSED)),
    }


REPORT_COLUMNS = (
    "ended",
    "kept",
    "kept_on_time",
    "renegotiated",
    "renegotiated_before_due",
    "withdrawn",
    "missed",
    "kept_on_time_rate",
    "proactive_rate",
    "missed_rate",
)


def _rates(row: dict) -> dict:
    """Rates over promises that came due one way or another (kept, renegotiated or missed);
    a withdrawn promise is neither kept nor broken."""
    decided = row["kept"] + row["renegotiated"] + row["missed"]

    def rate(n: int) -> float | None:
        return round(n / decided, 4) if decided else None

    return {
        **row,
        "kept_on_time_rate": rate(row["kept_on_time"]),
        "proactive_rate": rate(row["renegotiated_before_due"]),
        "missed_rate": rate(row["missed"]),
    }


def commitment_report(*, user: Any, period: ReportPeriod, team_id: int | None = None) -> dict:
    """Kept-on-time, renegotiated-before-due (proactive) and missed figures per team and per
    agent, over promises that ended in the period; aggregated in SQL (three queries).

    A promise counts for the owner at the moment it ended. Managers see their teams; agents see
    their teams' totals and only their own row.
    """
    start, end = period.bounds()
    if getattr(user, "is_superuser", False):
        team_ids = set(Team.objects.values_list("pk", flat=True))
    else:
        team_ids = set(team_ids_visible(user))
    if team_id is not None:
        if team_id not in team_ids:
            raise NotFoundError("No such team.")
        team_ids = {team_id}
    ended = Commitment.objects.filter(
        ended_at__gte=start, ended_at__lt=end, team_id__in=team_ids
    ).exclude(status=OPEN)
    team_rows = list(
        ended.values("team_id", "team__name").annotate(**_figures()).order_by("team__name")
    )
    agent_rows = list(
        ended.values("team_id", "owner_id", "owner__agent_profile__display_name")
        .annotate(**_figures())
        .order_by("team_id", "owner__agent_profile__display_name", "owner_id")
    )
    managed = {tid for tid in team_ids if is_team_manager(user, tid)}
    teams = [
        _rates(
            {
                "team_id": r.pop("team_id"),
                "team": r.pop("team__name"),
                **r,
            }
        )
        for r in team_rows
    ]
    agents = [
        _rates(
            {
                "team_id": r.pop("team_id"),
                "agent_id": r.pop("owner_id"),
                "agent_name": r.pop("owner__agent_profile__display_name") or "",
                **r,
            }
        )
        for r in agent_rows
    ]
    agents = [a for a in agents if a["team_id"] in managed or a["agent_id"] == user.pk]
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "teams": teams,
        "agents": agents,
    }
