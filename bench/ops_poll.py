"""Operation measured: the hot agent's open queue polling its live part (300 open cases at
scale ≥ 0.01) while nothing changed — ``GET /queue/live/`` with the ETag it was rendered with,
answered ``304 Not Modified``. The session is read from the cache, as in production with
Redis (``SESSION_ENGINE`` cached_db), so what is counted is the user and the stamp.

Target: at most 2 queries and 5 ms of this process's CPU per poll; the note says met or not.
``extra`` carries the stamp query's own time and what 1,000 agents polling every 15 s would
ask of the database (bench/README.md, "Polling the live queue").
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.test import Client, override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone

from bench.harness import NotBuilt, Result, measure

TARGET = "≤ 2 q, ≤ 5 ms CPU"
MAX_QUERIES = 2
MAX_CPU_MS = 5.0
AGENTS = 1000
POLL_SECONDS = 15.0


def op_queue_poll(env: Any) -> Result:
    try:
        resolve("/queue/live/")
    except Resolver404:
        raise NotBuilt("/queue/live/ is not routed") from None
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cached_db"):
        client = Client()
        client.force_login(env.hot)
        first = client.get("/queue/live/?since=0")
        etag = first.get("ETag", "")
        if first.status_code != 200 or not etag:
            raise NotBuilt(f"the live part answered {first.status_code} without an ETag")

        def call(i: int) -> Any:
            return client.get("/queue/live/?since=0", HTTP_IF_NONE_MATCH=etag)

        r = measure(
            "queue_poll",
            "live queue poll, unchanged (304, 300 open cases)",
            call,
            n=env.n,
            warmup=env.warmup,
            target=TARGET,
            ok=lambda response: getattr(response, "status_code", None) == 304,
        )
    stamp_ms, db_ms = _stamp_ms(env, n=max(20, env.n // 5))
    _judge(r, stamp_ms, db_ms)
    return r


def _stamp_ms(env: Any, *, n: int) -> tuple[float, float | None]:
    """The stamp query's median wall time (with the trip to the database), and the median
    execution time PostgreSQL reports for it (EXPLAIN ANALYZE; None on SQLite): the
    database's own share of a poll."""
    from django.db import connections

    from cases import live

    times, executed = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        live.queue_stamp(user=env.hot, now=timezone.now(), extra="")
        times.append((time.perf_counter() - t0) * 1000.0)
    alias, sql, params, _ = live.queue_stamp_statement(user=env.hot, now=timezone.now())
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            for _ in range(n):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else plan
                executed.append(plan["Planning Time"] + plan["Execution Time"])
    db_ms = round(statistics.median(executed), 2) if executed else None
    return round(statistics.median(times), 2), db_ms


def _judge(r: Result, stamp_ms: float, db_ms: float | None) -> None:
    polls_per_s = AGENTS / POLL_SECONDS
    per_poll_db = db_ms if db_ms is not None else stamp_ms
    queries = r.queries_max if r.queries_max is not None else MAX_QUERIES
    r.extra.update(
        {
            "stamp_query_ms": stamp_ms,
            "stamp_db_ms": db_ms,
            "agents": AGENTS,
            "poll_seconds": POLL_SECONDS,
            "polls_per_s": round(polls_per_s, 1),
            "db_queries_per_s": round(polls_per_s * queries, 1),
            # database time per second of wall time: cores kept busy by the stamp queries
            "db_cores_for_stamps": round(polls_per_s * per_poll_db / 1000.0, 3),
            "app_cores": round(polls_per_s * (r.cpu_median_ms or 0) / 1000.0, 3),
        }
    )
    met = (
        r.queries_max is not None
        and r.queries_max <= MAX_QUERIES
        and r.cpu_median_ms is not None
        and r.cpu_median_ms <= MAX_CPU_MS
    )
    r.note = (
        f"target {'met' if met else 'NOT met'}: {r.queries_max} q, {r.cpu_median_ms} ms CPU; "
        f"stamp query {stamp_ms} ms ({db_ms} ms in the database); "
        f"{AGENTS} agents every {POLL_SECONDS:.0f} s = "
        f"{r.extra['db_queries_per_s']} q/s, {r.extra['db_cores_for_stamps']} DB cores"
        + (f"; {r.note}" if r.note else "")
    )
