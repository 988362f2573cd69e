"""The Redis cache keeps one redis-py client per connection pool (Django builds one per
call), and reads, writes and counts as Django's does."""

from __future__ import annotations

from caseowner.redis_cache import RedisCache
from tests.conftest import require_redis


def test_one_client_serves_every_call_and_the_cache_works():
    cache = RedisCache(require_redis(), {"KEY_PREFIX": "redis-cache-test"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.set("throttle", [1.5, 2.5], 30)
    assert cache.get("throttle") == [1.5, 2.5]
    assert cache.incr(cache.add("hits", 1, 30) and "hits") == 2
    cache.delete_many(["throttle", "hits"])
    assert cache.get("throttle") is None
    assert cache._cache.get_client(write=True) is client
