"""When a promise is overdue: the one rule every surface asks (the queue and its API, the
case page and payload, the promise flags, the missed sweep, the dashboard).

A promise due at 10:00 is overdue from 10:00:00 exactly: ``due_at <= now``. The sweep that
marks a promise missed and apologises to the customer uses the same boundary, so nothing
shows a promise as "due soon" at the instant the customer is told it was missed.

A promise ended on time when it ended by its due time, ``ended_at <= due_at``: kept at 10:00:00
exactly (before the sweep reached it) is kept on time, as the customer reads "by 10:00".
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """A due time (none: no promise) is overdue at ``now``."""
    return due_at is not None and due_at <= now


def overdue_q(now: datetime, *, field: str = "due_at") -> Q:
    """The rows whose ``field`` is overdue at ``now`` (the same rule in SQL)."""
    return Q(**{f"{field}__lte": now})


def not_yet_due_q(now: datetime, *, field: str = "due_at") -> Q:
    """The rows whose ``field`` is not overdue at ``now``: the complement of ``overdue_q``."""
    return Q(**{f"{field}__gt": now})


def ended_on_time(ended_at: datetime, due_at: datetime) -> bool:
    """A promise that ended at ``ended_at`` ended by its due time."""
    return ended_at <= due_at


def ended_on_time_q(*, ended: str = "ended_at", due: str = "due_at") -> Q:
    """The rows that ended by their due time (the same rule in SQL)."""
    return Q(**{f"{ended}__lte": F(due)})
