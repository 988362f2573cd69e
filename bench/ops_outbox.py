"""The outbox's rows (sweep, delivery, notice latency), measured by bench/outbox.py and
bench/outbox_latency.py."""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from typing import Any

from bench.harness import NOT_BUILT, NotBuilt, Result
from bench.ops_env import Env


def _outbox(name: str, module: str = "outbox") -> Callable[..., Any]:
    try:
        found = importlib.import_module(f"bench.{module}")
    except ImportError:
        raise NotBuilt(f"bench/{module}.py is not there yet") from None
    fn = getattr(found, name, None)
    if fn is None:
        raise NotBuilt(f"bench.{module}.{name} is not there yet")
    return fn


def _call_with(fn: Callable[..., Any], **available: Any) -> Any:
    """Call ``fn`` with the keyword arguments it accepts among ``available``."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**available)
    return fn(**{k: v for k, v in available.items() if k in params})


def _from_outbox(key: str, label: str, value: Any, unit: str) -> Result:
    """Turn what bench/outbox.py returns (a Result, or a dict of figures) into a Result."""
    if isinstance(value, Result):
        value.key, value.label = key, value.label or label
        return value
    r = Result(key=key, label=label, unit=unit)
    if isinstance(value, dict):
        for name in (
            "n",
            "queries",
            "queries_max",
            "median_ms",
            "p95_ms",
            "p99_ms",
            "throughput",
            "errors",
            "note",
            "status",
            "unit",
        ):
            if name in value:
                setattr(r, name, value[name])
        r.extra = {k: v for k, v in value.items() if not hasattr(r, k)}
    else:
        r.note = repr(value)[:200]
    return r


def op_sweep_claim(env: Env, *, redis_url: str) -> Result:
    label = "sweep claims 1,000 due notifications"
    try:
        fn = _outbox("measure_sweep_claim")
        smoke = env.scale < 0.01
        value = _call_with(
            fn,
            scale=env.scale,
            rows=1000,
            repeats=env.n_writes,
            # the smoke run keeps the pending set small; real scales use the outbox's default
            **({"n_pending": 20_000} if smoke else {}),
        )
    except NotBuilt as exc:
        return Result("sweep_claim", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("sweep_claim", label, status="error", note=f"{type(exc).__name__}: {exc}")
    return _from_outbox("sweep_claim", label, value, "rows/s")


def _fresh_broker_connections() -> None:
    """Forget the broker connections the measured writes opened, so a broker the delivery
    measurement chooses is the one tasks are sent to."""
    try:
        from caseowner.celery import app
    except ImportError:
        return
    pool = getattr(app, "_pool", None)
    if pool is not None:
        pool.force_close_all()
        app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


# The workers as the README's runbook runs them: threads, so a worker's SMTP and database
# waits overlap, each thread with its own database and SMTP connection.
DELIVERY_POOL, DELIVERY_CONCURRENCY = "threads", 4
DELIVERY_TARGET = 600  # emails/s
LATENCY_RATE, LATENCY_TARGET_P99 = 300, 10.0  # notices due a second; seconds


def _met(ok: bool) -> str:
    return "target met" if ok else "target NOT met"


def op_delivery(env: Env, *, redis_url: str) -> Result:
    label = f"delivery: 2 Celery workers ({DELIVERY_POOL} ×{DELIVERY_CONCURRENCY}) → SMTP sink"
    try:
        fn = _outbox("measure_delivery")
        _fresh_broker_connections()
        # Celery prefers the CELERY_BROKER_URL variable to its configuration: while the
        # delivery measurement runs, the broker it configures must win.
        saved = os.environ.pop("CELERY_BROKER_URL", None)
        try:
            value = _call_with(
                fn,
                scale=env.scale,
                workers=2,
                pool=DELIVERY_POOL,
                concurrency=DELIVERY_CONCURRENCY,
                redis_url=redis_url,
                broker_url=redis_url,
                **({"n": 300} if env.scale < 0.01 else {}),
            )
        finally:
            if saved is not None:
                os.environ["CELERY_BROKER_URL"] = saved
            _fresh_broker_connections()
    except NotBuilt as exc:
        return Result("delivery", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("delivery", label, status="error", note=f"{type(exc).__name__}: {exc}")
    r = _from_outbox("delivery", label, value, "emails/s")
    if isinstance(value, dict) and value.get("throughput") is not None:
        r.note = (
            f"{value.get('duplicates', 0)} duplicates; "
            f"{_met(value['throughput'] >= DELIVERY_TARGET)}{_backlog(value)}"
        )
    return r


def op_notice_latency(env: Env, *, redis_url: str) -> Result:
    seconds = env.latency_seconds
    label = f"notice latency: {LATENCY_RATE} due/s for {seconds:g} s, send_after → SMTP accept"
    try:
        fn = _outbox("measure_notice_latency", "outbox_latency")
        _fresh_broker_connections()
        saved = os.environ.pop("CELERY_BROKER_URL", None)
        try:
            value = _call_with(
                fn,
                rate=LATENCY_RATE,
                seconds=seconds,
                workers=2,
                pool=DELIVERY_POOL,
                concurrency=DELIVERY_CONCURRENCY,
                redis_url=redis_url,
                broker_url=redis_url,
            )
        finally:
            if saved is not None:
                os.environ["CELERY_BROKER_URL"] = saved
            _fresh_broker_connections()
    except NotBuilt as exc:
        return Result("notice_latency", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("notice_latency", label, status="error", note=f"{type(exc).__name__}: {exc}")
    r = _from_outbox("notice_latency", label, value, "s")
    if isinstance(value, dict) and value.get("p99_s") is not None:
        r.note = (
            f"median {value['median_s']} s, p95 {value['p95_s']} s, p99 {value['p99_s']} s, "
            f"{value['not_delivered']} not delivered; "
            + _met(value["p99_s"] <= LATENCY_TARGET_P99 and not value["not_delivered"])
            + _backlog(value)
        )
    return r


def _backlog(value: dict) -> str:
    drained = value.get("backlog_drained") or 0
    if not drained:
        return ""
    notices = "notice" if drained == 1 else "notices"
    return f" ({drained:,} {notices} already due sent before the clock started)"
