"""Timing and query counting for one operation, in-process through Django's test client."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

NOT_BUILT = "n/a (not built)"


class NotBuilt(Exception):
    """The endpoint or function the operation needs does not exist (yet)."""


@dataclass
class Result:
    key: str
    label: str
    n: int = 0
    queries: int | None = None
    queries_max: int | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    # this process's CPU time per call: steadier than wall time on a busy machine
    cpu_median_ms: float | None = None
    throughput: float | None = None
    unit: str = "req/s"
    errors: int = 0
    status: str = "ok"
    note: str = ""
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(
    key: str,
    label: str,
    call: Callable[[int], Any],
    *,
    n: int,
    warmup: int = 20,
    query_samples: int = 3,
    target: str = "",
    note: str = "",
    ok: Callable[[Any], bool] | None = None,
    items_per_call: int = 1,
    unit: str = "req/s",
    prepare: Callable[[int], Any] | None = None,
) -> Result:
    """Call ``call(i)`` ``warmup`` times, count the SQL of a few calls, then time ``n`` calls.

    ``prepare(i)``, when given, runs untimed before each call and its result is what ``call``
    receives instead of ``i``. ``call`` returns a response (its status code is checked) or
    anything else; a call that raises counts as an error. ``items_per_call`` turns the timing
    into items per second.
    """
    result = Result(key=key, label=label, target=target, note=note, unit=unit)
    check = ok or _response_ok
    i = 0

    def arg(i: int) -> Any:
        return prepare(i) if prepare is not None else i

    try:
        for _ in range(warmup):
            call(arg(i))
            i += 1
        counts = []
        slowest: list[tuple[float, str]] = []
        for _ in range(query_samples):
            a = arg(i)
            with CaptureQueriesContext(connection) as ctx:
                response = call(a)
            i += 1
            if not check(response):
                result.errors += 1
                result.note = (result.note + " " + _describe(response)).strip()
            counts.append(len(ctx.captured_queries))
            if len(ctx.captured_queries) >= max(counts):
                most = [q["sql"][:160] for q in ctx.captured_queries]
            slowest.extend(
                (float(q["time"]), q["sql"]) for q in ctx.captured_queries if q.get("sql")
            )
        slowest.sort(key=lambda t: -t[0])
        result.extra["slowest_sql"] = [
            {"ms": round(t * 1000, 2), "sql": sql} for t, sql in slowest[:3]
        ]
        result.queries = min(counts) if counts else None
        # how many calls made how many statements, and the statements of the call with most
        result.extra["statement_counts"] = {n: counts.count(n) for n in sorted(set(counts))}
        if counts:
            result.extra["most_statements"] = most
        result.queries_max = max(counts) if counts else None
        times: list[float] = []
        cpu: list[float] = []
        for _ in range(n):
            a = arg(i)
            c0 = time.process_time()
            t0 = time.perf_counter()
            try:
                response = call(a)
                good = check(response)
            except Exception:  # counted and reported, the run goes on
                good = False
                response = None
            times.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.process_time() - c0) * 1000.0)
            i += 1
            if not good:
                result.errors += 1
                if result.errors == 1:
                    result.note = (result.note + " " + _describe(response)).strip()
    except NotBuilt as exc:
        result.status = NOT_BUILT
        result.note = str(exc)
        return result
    except Exception as exc:  # one broken operation must not stop the table
        result.status = "error"
        result.note = f"{type(exc).__name__}: {exc}"[:300]
        traceback.print_exc()
        return result
    result.n = len(times)
    if times:
        result.median_ms = round(statistics.median(times), 2)
        result.p95_ms = round(percentile(times, 95), 2)
        result.p99_ms = round(percentile(times, 99), 2)
        result.cpu_median_ms = round(statistics.median(cpu), 2)
        total = sum(times) / 1000.0
        result.throughput = round(len(times) * items_per_call / total, 1) if total else None
        if items_per_call > 1:
            result.extra["items_per_call"] = items_per_call
    if result.errors:
        result.status = "errors"
    return result


def _response_ok(response: Any) -> bool:
    status = getattr(response, "status_code", None)
    return status is None or 200 <= status < 300


def _describe(response: Any) -> str:
    status = getattr(response, "status_code", None)
    if status is None:
        return ""
    body = b""
    try:
        body = response.content[:200]
    except Exception:  # streaming responses
        pass
    return f"HTTP {status} {body.decode('utf-8', 'replace')}"
