"""The domain's Prometheus series, read at scrape time from cheap sources.

* the outbox: three indexed queries on the hot table (rows by status, the delivery lag,
  lost leases);
* counters and last-seen times the workers, beat and sweeps keep in the shared store
  (deliveries, failures and retries by channel and reason, Celery tasks by name and state,
  sweep timings): one Redis round trip;
* the per-team promise and hand-off figures the ``ops.refresh_figures`` job stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from caseowner.ops import signals, sweeps
from caseowner.ops.figures import HANDOFF_FIELDS, PROMISE_FIELDS, figures_snapshot
from caseowner.store import Series, get_store
from notifications import telemetry
from notifications.selectors import outbox_counts, outbox_health

# name in the store → (help, label names); counters are exposed with a _total suffix
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    telemetry.DELIVERIES: ("Messages delivered, by channel.", ("channel",)),
    telemetry.FAILURES: ("Messages failed for good, by channel, reason.", ("channel", "reason")),
    telemetry.RETRIES: (
        "Delivery attempts to retry, by channel and reason.",
        ("channel", "reason"),
    ),
    signals.TASKS: ("Celery tasks by name and state.", ("task", "state")),
    sweeps.RUNS: ("Runs of each periodic job.", ("task",)),
    sweeps.ROWS: ("Rows claimed by each periodic job.", ("task",)),
    sweeps.ERRORS: ("Runs of each periodic job that raised.", ("task",)),
}
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    sweeps.LAST_RUN: ("When each periodic job last finished (Unix time).", ("task",)),
    sweeps.LAST_DURATION: ("How long each periodic job's last run took.", ("task",)),
    sweeps.LAST_ROWS: ("Rows claimed by each periodic job's last run.", ("task",)),
    signals.WORKER_SEEN: ("When each Celery worker last ran a task (Unix time).", ("worker",)),
    signals.BEAT_SEEN: ("When Celery beat last sent a task (Unix time).", ()),
}
TEAM_SERIES: dict[str, tuple[str, str]] = {
    "open": ("caseowner_promises_open", "Open promises."),
    "due_within_business_hour": (
        "caseowner_promises_due_within_business_hour",
        "Open promises due within one business hour.",
    ),
    "at_risk": (
        "caseowner_promises_at_risk",
        "Open promises inside their last reminder lead, not confirmed on track.",
    ),
    "missed_today": ("caseowner_promises_missed_today", "Promises missed since local midnight."),
    "missed_norm": (
        "caseowner_promises_missed_daily_norm",
        "Mean promises missed per day over the 28 days before today.",
    ),
    "waiting": ("caseowner_handoffs_waiting", "Hand-off offers waiting for the receiver."),
    "oldest_waiting_seconds": (
        "caseowner_handoffs_oldest_waiting_seconds",
        "Age of the oldest hand-off offer waiting.",
    ),
    "escalated_today": (
        "caseowner_handoffs_escalated_today",
        "Hand-off offers escalated to managers since local midnight.",
    ),
}
assert set(TEAM_SERIES) == set(PROMISE_FIELDS + HANDOFF_FIELDS)


def _stored(
    families: dict[str, tuple[str, tuple[str, ...]]],
    values: dict[Series, float],
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
) -> Iterator[Metric]:
    for name, (help_text, label_names) in families.items():
        family = kind(name, help_text, labels=label_names)
        for (series_name, labels), value in sorted(values.items()):
            if series_name == name:
                by_name = dict(labels)
                family.add_metric([by_name.get(label, "") for label in label_names], value)
        yield family


class OutboxCollector(Collector):
    """The hot outbox, read live: it is small by design (finished rows move to the log)."""

    def collect(self) -> Iterable[Metric]:
        rows = GaugeMetricFamily(
            "caseowner_outbox_rows", "Rows in the outbox by status.", labels=["status"]
        )
        for status, n in outbox_counts().items():
            rows.add_metric([status], n)
        yield rows
        health = outbox_health()
        yield GaugeMetricFamily(
            "caseowner_outbox_delivery_lag_seconds",
            "How late the oldest due pending message is.",
            value=health.lag_seconds,
        )
        yield GaugeMetricFamily(
            "caseowner_outbox_expired_leases",
            "Claimed messages whose lease expired and no sweep reclaimed (worker lost).",
            value=health.expired_leases,
        )


class StoreCollector(Collector):
    """Counters and gauges the other processes keep in the shared store."""

    def collect(self) -> Iterable[Metric]:
        store = get_store()
        up = store.ping()
        counters, gauges = store.read() if up else ({}, {})
        yield GaugeMetricFamily(
            "caseowner_ops_store_up",
            "Whether the store of shared figures (Redis) answers.",
            value=1 if up else 0,
        )
        yield from _stored(COUNTERS, counters, CounterMetricFamily)
        yield from _stored(GAUGES, gauges, GaugeMetricFamily)


class TeamCollector(Collector):
    """The per-team snapshot the periodic job stored."""

    def collect(self) -> Iterable[Metric]:
        snapshot: dict[str, Any] = figures_snapshot()
        yield GaugeMetricFamily(
            "caseowner_ops_figures_age_seconds",
            "Age of the per-team promise and hand-off figures.",
            value=max(0.0, time.time() - float(snapshot.get("computed_at", 0.0))),
        )
        teams: dict[str, dict[str, float]] = snapshot.get("teams", {})
        for key, (name, help_text) in TEAM_SERIES.items():
            family = GaugeMetricFamily(name, help_text, labels=["team"])
            for team, values in sorted(teams.items()):
                family.add_metric([team], float(values.get(key, 0.0)))
            yield family


def domain_collectors() -> list[Collector]:
    return [OutboxCollector(), StoreCollector(), TeamCollector()]
