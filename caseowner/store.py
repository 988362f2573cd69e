"""Figures shared between processes: counters, last-seen times and the team snapshot.

The web process answers ``/metrics``, but deliveries, sweeps and tasks run in Celery workers
and beat, often on other machines. Process memory would show each process only its own
work, so the figures go to Redis (``OPS_STORE_URL``, by default the Redis broker): one hash of
counters (``HINCRBYFLOAT``, atomic across processes and monotonic across restarts of any of
them), one hash of gauges (last write wins) and one JSON document per snapshot. Redis rather
than a table: a counter bump is one round trip and never takes a row lock that concurrent
workers would queue on, and nothing here needs to survive the loss of Redis (counters
restarting at zero is a reset Prometheus understands).

With no Redis (the embedded default: SQLite, in-process scheduler, eager tasks) everything
runs in the web process, so a store in process memory is the whole truth.

Metrics must never break the work they measure: a store that fails is logged, skipped for
``OPS_STORE_RETRY_SECONDS`` and reported by ``caseowner_ops_store_up``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

logger = logging.getLogger(__name__)

Labels = tuple[tuple[str, str], ...]
Series = tuple[str, Labels]

PREFIX = "caseowner:ops:"


def series_key(name: str, labels: Mapping[str, object] | None = None) -> str:
    """A stable text key for one series: the metric name and its sorted labels."""
    pairs = sorted((str(k), str(v)) for k, v in (labels or {}).items())
    return json.dumps([name, pairs], separators=(",", ":"))


def parse_key(key: str | bytes) -> Series:
    name, pairs = json.loads(key)
    return name, tuple((k, v) for k, v in pairs)


class Store(Protocol):
    def update(
        self, *, incr: Mapping[str, float] | None = None, put: Mapping[str, float] | None = None
    ) -> None:
        """Add to counters and set gauges (keys from ``series_key``) in one round trip."""

    def read(self) -> tuple[dict[Series, float], dict[Series, float]]:
        """Every counter and gauge."""

    def put_document(self, name: str, document: Any) -> None: ...

    def get_document(self, name: str) -> Any: ...

    def ping(self) -> bool: ...


class MemoryStore:
    """The figures of this process only: right when one process does all the work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}
        self.documents: dict[str, str] = {}

    def update(
        self, *, incr: Mapping[str, float] | None = None, put: Mapping[str, float] | None = None
    ) -> None:
        with self._lock:
            for key, amount in (incr or {}).items():
                self.counters[key] = self.counters.get(key, 0.0) + amount
            self.gauges.update(put or {})

    def read(self) -> tuple[dict[Series, float], dict[Series, float]]:
        with self._lock:
            return (
                {parse_key(k): v for k, v in self.counters.items()},
                {parse_key(k): v for k, v in self.gauges.items()},
            )

    def put_document(self, name: str, document: Any) -> None:
        with self._lock:
            self.documents[name] = json.dumps(document)

    def get_document(self, name: str) -> Any:
        with self._lock:
            text = self.documents.get(name)
        return None if text is None else json.loads(text)

    def ping(self) -> bool:
        return True

    def clear(self) -> None:
        with self._lock:
            self.counters.clear()
            self.gauges.clear()
            self.documents.clear()


class RedisStore:
    """Figures in Redis, shared by every web, worker and beat process."""

    def __init__(self, url: str, retry_after: float = 10.0) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.retry_after = retry_after
        self._down_until = 0.0

    def _run(self, what: str, action: Any) -> Any:
        """Run ``action``; while Redis is failing, skip writes instead of waiting on it."""
        if time.monotonic() < self._down_until:
            return None
        try:
            return action()
        except Exception as exc:  # metrics never break the work they measure
            self._down_until = time.monotonic() + self.retry_after
            logger.warning(
                "ops store: %s failed (%s); skipping for %.0f s", what, exc, self.retry_after
            )
            return None

    def update(
        self, *, incr: Mapping[str, float] | None = None, put: Mapping[str, float] | None = None
    ) -> None:
        def action() -> None:
            pipe = self.client.pipeline(transaction=False)
            for key, amount in (incr or {}).items():
                pipe.hincrbyfloat(PREFIX + "counters", key, amount)
            if put:
                pipe.hset(PREFIX + "gauges", mapping=dict(put))
            pipe.execute()

        if incr or put:
            self._run("update", action)

    def read(self) -> tuple[dict[Series, float], dict[Series, float]]:
        def action() -> tuple[dict[Series, float], dict[Series, float]]:
            pipe = self.client.pipeline(transaction=False)
            pipe.hgetall(PREFIX + "counters")
            pipe.hgetall(PREFIX + "gauges")
            counters, gauges = pipe.execute()
            return (
                {parse_key(k): float(v) for k, v in counters.items()},
                {parse_key(k): float(v) for k, v in gauges.items()},
            )

        # A scrape always tries: it is how the store is seen to be back.
        self._down_until = 0.0
        return self._run("read", action) or ({}, {})

    def put_document(self, name: str, document: Any) -> None:
        self._run("put", lambda: self.client.set(PREFIX + "doc:" + name, json.dumps(document)))

    def get_document(self, name: str) -> Any:
        text = self._run("get", lambda: self.client.get(PREFIX + "doc:" + name))
        return None if text is None else json.loads(text)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # reported as down
            return False


_memory = MemoryStore()
_stores: dict[str, Store] = {}
_lock = threading.Lock()


def get_store() -> Store:
    """The store ``settings.OPS_STORE_URL`` names (one per process), or process memory."""
    from django.conf import settings

    url = settings.OPS_STORE_URL
    if not url:
        return _memory
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = RedisStore(url, retry_after=settings.OPS_STORE_RETRY_SECONDS)
            _stores[url] = store
        return store


def memory_store() -> MemoryStore:
    """The in-process store (tests clear it between runs)."""
    return _memory
