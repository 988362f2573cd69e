"""The seam through which ``cases`` tells later apps about its events, and asks them back.

``cases`` never imports ``commitments``. Apps that must act inside the same transaction as a
case event append a handler here from their ``AppConfig.ready()``; services call them
explicitly (no Django signals), so a handler's failure rolls the whole change back.

What a handler returns is declared here as a dataclass, so both sides agree on names and
types (datetimes are aware ``datetime`` objects, never strings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import Case


@dataclass(frozen=True)
class PromiseBrief:
    """An open promise of a case, as a hand-off brief must carry it."""

    id: int
    description: str
    due_at: datetime
    # False for the owner's own follow-ups (a hand-off check, a recovery call): briefed to
    # the next owner, never listed to the customer.
    customers: bool = True


@dataclass(frozen=True)
class CustomerPromise:
    """An open promise as the customer sees it on their page: no owner, no internal state."""

    description: str
    due_at: datetime


@dataclass(frozen=True)
class CustomerLink:
    """A link on the customer's page to a later app's page for them (in their language)."""

    url: str
    text: str


@dataclass(frozen=True)
class QueueFlags:
    overdue: bool = False
    at_risk: bool = False


@dataclass(frozen=True)
class DuePromise:
    """An open promise of an agent's case that falls due in a window (planning an absence)."""

    case_id: int
    id: int
    description: str
    due_at: datetime


@dataclass(frozen=True)
class PromiseOutcomes:
    """How a case's promises to the customer ended (an open one counts as kept: the case
    closing keeps it, or is refused)."""

    kept: int = 0
    renegotiated: int = 0
    missed: int = 0


class WorkingTime(Protocol):
    """An agent's working hours as a later app computes them (a business calendar)."""

    def is_working(self, at: datetime) -> bool: ...

    def next_opening(self, after: datetime) -> datetime | None:
        """The first working instant at or after ``after`` (None: no working time ahead)."""


@dataclass(frozen=True)
class PagePanel:
    """A section of the staff case page that a later app renders itself."""

    anchor: str
    title: str
    html: str


# handler(case=..., by=user, now=datetime) — a case was just opened (first-response promise).
case_opened: list[Callable[..., Any]] = []
# handler(case=..., handoff=..., now=datetime) — ownership moved; ``case`` is the locked row
# read in this transaction, ``case.owner`` (with its agent profile) the new owner.
handoff_accepted: list[Callable[..., Any]] = []
# handler(case=..., contact=Contact, now=datetime) — a contact with the customer was just
# recorded on the (locked) case, in its transaction; never called for an automatic message
# (an auto-reply or a bounce changes nothing). ``contact.direction`` says which way it went.
contact_recorded: list[Callable[..., Any]] = []
# handler(case=..., by=user, now=datetime) — the case was resolved or closed.
case_closed: list[Callable[..., Any]] = []
# handler(case=...) -> PromiseOutcomes — how the case's promises to the customer ended, for
# the satisfaction question's snapshot at close (the first handler answers).
promise_outcomes: list[Callable[..., PromiseOutcomes]] = []
# handler(case=...) -> list[PromiseBrief] — open promises a hand-off must brief.
open_commitments: list[Callable[..., list[PromiseBrief]]] = []
# handler(cases=[...]) -> {case id: list[PromiseBrief]} — the same for many cases in one go.
open_commitments_many: list[Callable[..., dict[int, list[PromiseBrief]]]] = []
# handler(case=...) -> list[CustomerPromise] — the open promises the customer page shows.
customer_promises: list[Callable[..., list[CustomerPromise]]] = []
# handler(case=..., token=str) -> CustomerLink | None — a link the customer page offers
# under the promises (a later app's page behind the same signed link); no query.
customer_page_links: list[Callable[..., CustomerLink | None]] = []
# handler(team_id=int) -> str — the address of the page that lists a team's agents (a later
# app's: the reports), for the way back to it from a page of cases (the first handler
# answers). With none registered, cases' pages link to no such page.
team_agents_page: list[Callable[..., str]] = []
# handler(start=date | None, end=date | None, today=date) -> (datetime, datetime) — the
# instants [start, end) of the days a caller asked for, by the reports' one period rule
# (``reports.period.Window``); it raises a ``RuleError`` (``invalid_period``) for days it
# refuses. The hand-off audit page filters on it (the first handler answers).
report_days: list[Callable[..., tuple[datetime, datetime]]] = []
# handler(case=..., user=...) -> dict — extra keys of the case's API representation (JSON
# ready, e.g. {"commitments": [...]}); each handler runs a fixed number of queries.
case_detail_extras: list[Callable[..., dict[str, Any]]] = []
# handler(request=..., case=..., can_change=bool, page_forms=dict) -> PagePanel — a section
# of the staff case page; ``page_forms`` carries the bound forms of a refused POST.
case_page_panels: list[Callable[..., PagePanel]] = []
# handler(team=..., start=datetime, duration=timedelta) -> datetime — ``duration`` of the
# team's business time after ``start`` (the first handler answers). With none registered,
# plain elapsed time is used. Hand-off offer reminders and escalations are timed with it.
business_time_add: list[Callable[..., datetime]] = []
# handler(case_ids=[...], now=datetime) -> {case_id: QueueFlags} — flags for a page of the
# queue, in one query; cases it leaves out fall back to ``Case.next_due_at``.
queue_flags: list[Callable[..., dict[int, QueueFlags]]] = []
# handler(team=..., tz_name=str, weekly_hours=dict) -> WorkingTime — an agent's working hours:
# the team's calendar (holidays, closed days) in ``tz_name``, with ``weekly_hours`` instead of
# the team's when not empty (the first handler answers). With none: always working.
working_time: list[Callable[..., WorkingTime]] = []
# handler(agent=user, start=datetime, end=datetime | None, now=datetime) — the agent's
# availability changed for [start, end) (an absence recorded or ended, the "away now" switch):
# reminders of their promises due then are re-addressed, in the same transaction.
availability_changed: list[Callable[..., Any]] = []
# handler(owner_id=int, start=datetime, end=datetime) -> list[DuePromise] — the open
# promises of the owner's cases due in [start, end), in one query.
promises_due_between: list[Callable[..., list[DuePromise]]] = []
# handler(case_ids=<a values("pk") queryset of cases>, now=datetime, soon=datetime) ->
# {name: expression} — scalar subqueries whose values change whenever the app's part of the
# queue or of the case page's act-first block would (``cases.live``): promises made or ended,
# and those past their at-risk, ``soon`` or due instants now.
live_stamp_parts: list[Callable[..., dict[str, Any]]] = []

# handler(merged=Customer, survivor=Customer) -> {"<rows>": [ids…]} — move rows that point at
# a customer (and not only through its cases) to the survivor of a merge; what it returns is
# kept on the merge so that ``customer_unmerge`` can move exactly those rows back.
customer_merge_move: list[Callable[..., dict[str, list[int]]]] = []
# handler(moved={"<rows>": [ids…]}, merged=Customer, survivor=Customer) — move them back.
customer_unmerge_move: list[Callable[..., None]] = []
# handler(case_ids=[...], placeholder=str) -> [tags…] — a customer's personal data is being
# erased: replace the free text of rows on these cases with ``placeholder`` (keep every id,
# status, date and figure) and name the tags of notifications that carry that text, so the
# outbox redacts them too. Runs inside ``customer_erase``'s transaction.
customer_erased: list[Callable[..., list[str]]] = []

# Timeline event kinds and their labels: ``cases`` registers its own (``EventKind``); later
# apps register theirs from ``ready()`` with ``register_event_kinds``.
event_kind_labels: dict[str, str | Promise] = {}


def register(handlers: list[Any], handler: Callable[..., Any]) -> None:
    """Append ``handler`` once (``ready()`` may run more than once in tests)."""
    if handler not in handlers:
        handlers.append(handler)


def register_event_kinds(choices: Sequence[tuple[str, str | Promise]]) -> None:

    event_kind_labels.update(dict(choices))


def event_kind_label(kind: str) -> str:
    return str(event_kind_labels.get(kind, kind.replace("_", " ").capitalize()))


def run(handlers: list[Callable[..., Any]], **kwargs: Any) -> None:
    for handler in handlers:
        handler(**kwargs)


def collect_open_commitments(case: Case) -> list[PromiseBrief]:
    items: list[PromiseBrief] = []
    for handler in open_commitments:
        items.extend(handler(case=case))
    return items


def collect_open_commitments_many(cases: list[Case]) -> dict[int, list[PromiseBrief]]:
    """``collect_open_commitments`` of every case, by case id (a query per handler)."""
    found: dict[int, list[PromiseBrief]] = {c.pk: [] for c in cases}
    if not open_commitments_many:
        return {c.pk: collect_open_commitments(c) for c in cases}
    for handler in open_commitments_many:
        for case_id, items in handler(cases=cases).items():
            found[case_id].extend(items)
    return found


def case_promise_outcomes(case: Case) -> PromiseOutcomes:
    for handler in promise_outcomes:
        return handler(case=case)
    return PromiseOutcomes()


def collect_customer_promises(case: Case) -> list[CustomerPromise]:
    items: list[CustomerPromise] = []
    for handler in customer_promises:
        items.extend(handler(case=case))
    return sorted(items, key=lambda p: p.due_at)


def add_business_time(team: Any, start: datetime, duration: timedelta) -> datetime:
    for handler in business_time_add:
        return handler(team=team, start=start, duration=duration)
    return start + duration


def agent_working_time(team: Any, tz_name: str, weekly_hours: dict) -> WorkingTime | None:
    for handler in working_time:
        return handler(team=team, tz_name=tz_name, weekly_hours=weekly_hours)
    return None


def collect_promises_due(owner_id: int, start: datetime, end: datetime) -> list[DuePromise]:
    items: list[DuePromise] = []
    for handler in promises_due_between:
        items.extend(handler(owner_id=owner_id, start=start, end=end))
    return sorted(items, key=lambda p: (p.due_at, p.id))


def team_agents_url(team_id: int) -> str:
    for handler in team_agents_page:
        return handler(team_id=team_id)
    return ""


def report_day_bounds(
    start: date | None, end: date | None, today: date
) -> tuple[datetime, datetime] | None:
    """The instants of the days asked for (None: no day asked for, or no reports app)."""
    if start is None and end is None:
        return None
    for handler in report_days:
        return handler(start=start, end=end, today=today)
    return None


def collect_detail_extras(case: Case, user: Any) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for handler in case_detail_extras:
        extras.update(handler(case=case, user=user))
    return extras


def collect_page_panels(
    *, request: HttpRequest, case: Case, can_change: bool, page_forms: dict[str, Any]
) -> list[PagePanel]:
    return [
        handler(request=request, case=case, can_change=can_change, page_forms=page_forms)
        for handler in case_page_panels
    ]


def collect_queue_flags(case_ids: list[int], now: datetime) -> dict[int, QueueFlags]:
    flags: dict[int, QueueFlags] = {}
    for handler in queue_flags:
        for case_id, values in handler(case_ids=case_ids, now=now).items():
            earlier = flags.get(case_id, QueueFlags())
            flags[case_id] = QueueFlags(
                overdue=earlier.overdue or values.overdue, at_risk=earlier.at_risk or values.at_risk
            )
    return flags
