"""The seam through which ``cases`` tells later apps about its events.

``cases`` never imports ``commitments``. Apps that must act inside the same transaction as a
case event append a handler here from their ``AppConfig.ready()``; services call them
explicitly (no Django signals), so a handler's failure rolls the whole change back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cases.models import Case

# handler(case=..., by=user, now=datetime) — a case was just opened (first-response promise).
case_opened: list[Callable[..., Any]] = []
# handler(case=..., handoff=..., now=datetime) — ownership moved; case.owner is the new owner.
handoff_accepted: list[Callable[..., Any]] = []
# handler(case=..., by=user, now=datetime) — the case was resolved or closed.
case_closed: list[Callable[..., Any]] = []
# handler(case=...) -> list[dict] — open commitments to brief in a hand-off:
# [{"id": int, "description": str, "due_at": iso str}]
open_commitments: list[Callable[..., list[dict]]] = []
# handler(case=..., user=...) -> dict — extra keys for the case detail (API and page), e.g.
# {"commitments": [...]}; each handler runs a fixed number of queries.
case_detail_extras: list[Callable[..., dict]] = []
# handler(team=..., start=datetime, duration=timedelta) -> datetime — ``duration`` of the
# team's business time after ``start`` (the first handler answers). With none registered,
# plain elapsed time is used. Hand-off offer reminders and escalations are timed with it.
business_time_add: list[Callable[..., datetime]] = []
# handler(case_ids=[...], now=datetime) -> {case_id: {"overdue": bool, "at_risk": bool}} —
# flags for a page of the queue, in one query.
queue_flags: list[Callable[..., dict]] = []


def run(handlers: list[Callable[..., Any]], **kwargs: Any) -> None:
    for handler in handlers:
        handler(**kwargs)


def collect_open_commitments(case: Case) -> list[dict]:
    items: list[dict] = []
    for handler in open_commitments:
        items.extend(handler(case=case))
    return items


def add_business_time(team: Any, start: datetime, duration: timedelta) -> datetime:
    for handler in business_time_add:
        return handler(team=team, start=start, duration=duration)
    return start + duration


def collect_detail_extras(case: Case, user: Any) -> dict:
    extras: dict = {}
    for handler in case_detail_extras:
        extras.update(handler(case=case, user=user))
    return extras


def collect_queue_flags(case_ids: list[int], now: Any) -> dict[int, dict]:
    flags: dict[int, dict] = {}
    for handler in queue_flags:
        for case_id, values in handler(case_ids=case_ids, now=now).items():
            flags.setdefault(case_id, {}).update(values)
    return flags
