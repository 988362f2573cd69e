"""Reads a manager's page may take from a PostgreSQL replica (``DATABASE_REPLICA_URL``).

Explicit, never by default: only code run inside ``reading_replica()`` (the views decorated
with ``replica_reads``: the reports, the dashboard, the hand-off audit, search and the CSV
exports) reads the replica, and even there a read made inside a transaction opened after
entering it (every service is one transaction) goes to the primary, so a write path never
decides on a replica's older rows. Without ``DATABASE_REPLICA_URL`` there is no replica alias
and everything reads the primary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property, wraps
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

# The primary's transaction depth when ``reading_replica()`` was entered; None outside it.
_entered_at: ContextVar[int | None] = ContextVar("replica_entered_at", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_alias() -> str:
    """The alias reads inside ``reading_replica()`` use: the replica when one is configured."""
    return REPLICA if replica_configured() else DEFAULT_DB_ALIAS


@contextmanager
def reading_replica() -> Iterator[None]:
    """Reads made in this block (outside any transaction opened inside it) use the replica."""
    depth = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
    token = _entered_at.set(depth)
    try:
        yield
    finally:
        _entered_at.reset(token)


def reads_replica_now() -> bool:
    """Whether a read made here goes to the replica."""
    depth = _entered_at.get()
    if depth is None or not replica_configured():
        return False
    # A transaction opened inside the block is a write path: it reads the primary.
    return len(connections[DEFAULT_DB_ALIAS].atomic_blocks) <= depth


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: the replica for reads inside ``reading_replica()``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return REPLICA if reads_replica_now() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same rows on both servers

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # a streaming replica follows the primary's schema


LAG_SQL = (
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
    " THEN 0 ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


class ReplicaLag:
    """How far the replica is behind, read once when a page shows it (one query)."""

    def __init__(self, alias: str = REPLICA) -> None:
        self.alias = alias

    @cached_property
    def _row(self) -> tuple[bool, float | None]:
        try:
            with connections[self.alias].cursor() as cursor:
                cursor.execute(LAG_SQL)
                standby, seconds = cursor.fetchone()
        except Exception:  # noqa: BLE001 - a lag we cannot read is shown as unknown
            return False, None
        return bool(standby), None if seconds is None else max(0.0, float(seconds))

    @property
    def standby(self) -> bool:
        return self._row[0]

    @property
    def seconds(self) -> float | None:
        """Seconds behind the primary (0 when it has replayed all it received); None when
        the replica's server is not a standby (a test's mirror) or cannot be asked."""
        return self._row[1] if self.standby else None


def replica_reads(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose reads use the replica; the page shows the replica's lag
    (``request.replica_lag``, read by ``components/replica_lag.html``). A streamed answer
    (a CSV export) reads its rows from the replica as it streams."""

    @wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        if not replica_configured():
            return view(request, *args, **kwargs)
        request.replica_lag = ReplicaLag()
        with reading_replica():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response

    return wrapped


def _streamed_from_replica(chunks: Any) -> Iterator[Any]:
    """Each chunk made inside ``reading_replica()``, left between chunks: a download the
    client abandons never leaves the block entered for the thread's next request."""
    iterator = iter(chunks)
    while True:
        with reading_replica():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk
