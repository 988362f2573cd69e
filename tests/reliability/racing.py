"""A pool of threads, each with its own database connection kept for the whole race, that
run one round of actions at once: all of them queued behind a row lock this thread holds,
then let go together, so every round is real contention on PostgreSQL."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction

from caseowner.errors import RuleError

ROUNDS = int(os.environ.get("RELIABILITY_ROUNDS", "50"))
CONNECTIONS = int(os.environ.get("RELIABILITY_CONNECTIONS", "20"))

_STOP = object()


def waiting_on_locks(expected: int, timeout: float = 20.0) -> None:
    """Block until ``expected`` other backends wait on a lock (the racers are queued)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cur.fetchone()[0] >= expected:
                return
            time.sleep(0.005)
    raise AssertionError(f"{expected} racers never queued on the lock")


class RacePool:
    """``size`` threads with one connection each; ``round()`` runs one action per thread."""

    def __init__(self, size: int = CONNECTIONS) -> None:
        self.size = size
        self.inboxes: list[queue.Queue] = [queue.Queue() for _ in range(size)]
        self.outbox: queue.Queue = queue.Queue()
        self.threads = [
            threading.Thread(target=self._serve, args=(i,), daemon=True) for i in range(size)
        ]
        for t in self.threads:
            t.start()

    def _serve(self, index: int) -> None:
        try:
            while (action := self.inboxes[index].get()) is not _STOP:
                try:
                    result: Any = action()
                except Exception as exc:  # noqa: BLE001 - classified by the caller
                    result = exc
                self.outbox.put((index, result))
        finally:
            connection.close()

    def round(self, lock: Callable[[], object], actions: list[Callable[[], Any]]) -> list[Any]:
        """Hold ``lock()`` (a row lock) while every action starts and queues behind it."""
        assert len(actions) == self.size
        with transaction.atomic():
            lock()
            for inbox, action in zip(self.inboxes, actions, strict=True):
                inbox.put(action)
            waiting_on_locks(self.size)
        results: list[Any] = [None] * self.size
        for _ in range(self.size):
            index, result = self.outbox.get(timeout=60)
            results[index] = result
        return results

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(_STOP)
        for t in self.threads:
            t.join(timeout=30)


def server_errors(results: list[Any]) -> list[Exception]:
    """Anything raised that is not the product's domain error (a refusal the API answers 4xx)."""
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, RuleError)]


def refusals(results: list[Any]) -> list[str]:
    return sorted(r.code for r in results if isinstance(r, RuleError))
