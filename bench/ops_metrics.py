"""Operations measured: a Prometheus scrape of ``/metrics`` and the periodic job that
computes the per-team figures the scrape reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client

from bench.harness import NotBuilt, Result, measure


def op_metrics_scrape(env: Any) -> Result:
    """``GET /metrics`` as Prometheus sends it, after the figures job has run once."""
    from django.urls import Resolver404, resolve

    try:
        resolve("/metrics")
        from caseowner.ops.figures import figures_refresh
    except (Resolver404, ImportError):
        return measure("metrics_scrape", "/metrics scrape", _not_built, n=1, warmup=0)
    figures_refresh()
    headers = (
        {"authorization": f"Bearer {settings.METRICS_TOKEN}"} if settings.METRICS_TOKEN else {}
    )
    client = Client(headers=headers, REMOTE_ADDR="127.0.0.1")

    def call(i: int) -> Any:
        return client.get("/metrics")

    r = measure(
        "metrics_scrape",
        "/metrics scrape (Prometheus, every series)",
        call,
        n=env.n,
        warmup=env.warmup,
        target="p95 ≤50",
    )
    r.extra["bytes"] = len(client.get("/metrics").content)
    return r


def op_figures_refresh(env: Any) -> Result:
    """One run of the ``ops.refresh_figures`` job (every OPS_FIGURES_INTERVAL, 30 s)."""
    try:
        from caseowner.ops.figures import figures_refresh
    except ImportError:
        return measure("figures_refresh", "team figures job", _not_built, n=1, warmup=0)

    def call(i: int) -> Any:
        return figures_refresh()

    return measure(
        "figures_refresh",
        "team figures job (promises, hand-offs per team)",
        call,
        n=max(5, env.n // 10),
        warmup=1,
        target="≪ 30 s interval",
        unit="runs/s",
    )


def _not_built(i: int) -> None:
    raise NotBuilt("caseowner.ops is not there yet")
