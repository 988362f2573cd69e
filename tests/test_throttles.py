"""The API's rate limits (``caseowner.throttles``) count in two windows: what a client sent
in this window plus the overlapping share of the last. The limit holds, a refused call is
not counted, another user keeps their own count, Retry-After says when one more call would
pass, and the cache holds two integers per client whatever the rate (DRF's throttle kept a
list of every request's time). Against the process's cache and against Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache as default_cache
from rest_framework.test import APIRequestFactory

from caseowner.redis_cache import RedisCache
from caseowner.throttles import AnonRateThrottle, UserRateThrottle
from tests.conftest import require_redis
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

# the start of a minute: windows of 60 s begin at multiples of 60 since the epoch
START = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["process", "redis"])
def cache(request):
    if request.param == "redis":
        chosen = RedisCache(require_redis(), {"KEY_PREFIX": f"throttle-test-{time.time_ns()}"})
    else:
        chosen = default_cache
    chosen.clear()
    yield chosen
    chosen.clear()


def throttle_for(cache, rate: str):
    class Limited(UserRateThrottle):
        THROTTLE_RATES = {"user": rate}

    Limited.cache = cache
    return Limited


def calls(throttle_class, user, n: int) -> list[bool]:
    request = APIRequestFactory().get("/api/v1/queue/")
    request.user = user
    return [throttle_class().allow_request(request, None) for _ in range(n)]


def test_the_rate_holds_and_a_refused_call_is_not_counted(cache):
    limited = throttle_for(cache, "3/min")
    amelia, oliver = make_agent(), make_agent()
    with time_machine.travel(START, tick=False) as clock:
        assert calls(limited, amelia, 5) == [True, True, True, False, False]
        assert calls(limited, oliver, 1) == [True]  # his own count
        # 45 s into the next window a quarter of the last one's 3 still counts (0.75): two
        # more fit, the third does not; the two refused above were never counted
        clock.move_to(datetime(2026, 12, 7, 9, 1, 45, tzinfo=UTC))
        assert calls(limited, amelia, 3) == [True, True, False]


def test_retry_after_is_when_one_more_call_would_pass(cache):
    limited = throttle_for(cache, "4/min")
    user = make_agent()
    request = APIRequestFactory().get("/api/v1/queue/")
    request.user = user
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC), tick=False) as clock:
        for _ in range(4):
            assert limited().allow_request(request, None)
        refused = limited()
        assert not refused.allow_request(request, None)
        # this window is full: the next starts in 30 s with these 4 as its previous, which
        # let a fifth through once their weight is 3/4, 15 s in
        assert refused.wait() == pytest.approx(45.0)
        clock.move_to(datetime(2026, 12, 7, 9, 1, 14, tzinfo=UTC))
        assert not limited().allow_request(request, None)
        clock.move_to(datetime(2026, 12, 7, 9, 1, 15, tzinfo=UTC))
        assert limited().allow_request(request, None)


def test_the_cache_holds_two_integers_per_client_whatever_the_rate(cache):
    limited = throttle_for(cache, "100000/min")
    user = make_agent()
    window = int(START.timestamp() // 60)
    key = f"throttle_user_{user.pk}:{window}"
    with time_machine.travel(START, tick=False):  # read within the window: the counter expires
        assert all(calls(limited, user, 500))
        assert cache.get(key) == 500


def test_anonymous_calls_are_counted_by_address(cache):
    class Limited(AnonRateThrottle):
        THROTTLE_RATES = {"anon": "2/min"}

    Limited.cache = cache
    factory = APIRequestFactory()
    here = factory.get("/api/v1/customer-link/", REMOTE_ADDR="203.0.113.5")
    there = factory.get("/api/v1/customer-link/", REMOTE_ADDR="203.0.113.6")
    for request in (here, there):
        request.user = AnonymousUser()
    with time_machine.travel(START, tick=False):
        assert [Limited().allow_request(here, None) for _ in range(3)] == [True, True, False]
        assert Limited().allow_request(there, None)


def test_the_default_throttles_reach_redis_through_djangos_cache_proxy(settings):
    """DRF's throttles hold ``django.core.cache.cache``, a proxy: behind it, a Redis cache is
    counted in one pipelined round trip, not three calls."""
    from django.core.cache import cache as proxy

    from caseowner.throttles import _backend, _redis

    settings.CACHES = {
        "default": {
            "BACKEND": "caseowner.redis_cache.RedisCache",
            "LOCATION": require_redis(),
            "KEY_PREFIX": f"throttle-proxy-{time.time_ns()}",
        }
    }
    assert _redis(_backend(proxy)) is not None
    limited = throttle_for(proxy, "2/min")
    user = make_agent()
    with time_machine.travel(START, tick=False):
        assert calls(limited, user, 3) == [True, True, False]
    proxy.clear()
