"""The API's rate limits, counted in constant time.

DRF's ``SimpleRateThrottle`` keeps a list of the time of every request in the window and
reads, filters and writes the whole list back on each request: at the default 6,000 a minute
an integrator's busy client carried 6,000 timestamps (54 kB pickled) through the cache and
Python twice a request, and the cost grew with the rate it is there to limit (1.5 ms of CPU
and 160 kB of Redis traffic a request at 150 requests a second).

These count in two fixed windows instead (a sliding-window counter): the requests of the
current window plus the previous window's, weighted by how much of it still overlaps the last
``duration`` seconds. One round trip to Redis (increment this window, read the last), a few
integers in the cache whatever the rate. A refused request is not counted. The estimate
assumes the previous window's requests were spread evenly; it never lets more than the rate
through in any window of the duration by more than that window's unevenness.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework import throttling


class _WindowCounter:
    """``allow_request`` and ``wait`` for a ``SimpleRateThrottle``, by window counters."""

    rate: str | None
    num_requests: int
    duration: int
    cache: Any
    key: str | None
    timer: Any

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._elapsed = now - window * self.duration
        here, before = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        current, previous = _count(self.cache, here, before, ttl=2 * self.duration)
        self._current, self._previous = current, previous
        overlap = 1 - self._elapsed / self.duration
        if previous * overlap + current <= self.num_requests:
            return True
        _uncount(self.cache, here)
        self._current -= 1
        return False

    def wait(self) -> float | None:
        """Seconds until one more request would be let through."""
        allowed = self.num_requests - 1  # what may stand before the next one counts
        duration, elapsed = self.duration, self._elapsed
        current, previous = self._current, self._previous
        if current <= allowed and previous:
            # within this window, once the previous one's weight has fallen far enough
            needed = 1 - (allowed - current) / previous
            return max(0.0, needed * duration - elapsed)
        # this window alone is full: the next one starts with it as its previous
        later = 1 - allowed / current if current else 0.0
        return max(0.0, duration - elapsed + later * duration)


def _count(cache: Any, here: str, before: str, *, ttl: int) -> tuple[int, int]:
    """Add one to ``here``; return it and ``before`` (0 when missing)."""
    cache = _backend(cache)
    client = _redis(cache)
    if client is not None:
        here_key = cache.make_and_validate_key(here)
        pipe = client.pipeline(transaction=False)
        pipe.incr(here_key)
        pipe.expire(here_key, ttl)
        pipe.get(cache.make_and_validate_key(before))
        current, _, previous = pipe.execute()
        return int(current), int(previous or 0)
    cache.add(here, 0, ttl)
    try:
        current = cache.incr(here)
    except ValueError:  # expired between the two calls
        cache.set(here, 1, ttl)
        current = 1
    return int(current), int(cache.get(before) or 0)


def _uncount(cache: Any, here: str) -> None:
    try:
        cache.decr(here)
    except ValueError:
        pass


def _backend(cache: Any) -> Any:
    """The cache itself behind ``django.core.cache.cache`` (the proxy DRF's throttles hold)."""
    if isinstance(cache, ConnectionProxy):
        return caches[cache._alias]  # type: ignore[attr-defined]
    return cache


def _redis(cache: Any) -> Any:
    """The cache's redis-py client when it is ``caseowner.redis_cache.RedisCache``."""
    from caseowner.redis_cache import RedisCache

    if isinstance(cache, RedisCache):
        return cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    return None


class UserRateThrottle(_WindowCounter, throttling.UserRateThrottle):
    """DRF's per-user limit (``user``), counted in windows."""


class AnonRateThrottle(_WindowCounter, throttling.AnonRateThrottle):
    """DRF's per-address limit for anonymous calls (``anon``), counted in windows."""
