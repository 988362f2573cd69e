"""When workers and beat were last seen: their own reports in the shared store (each task
a worker starts, each task beat sends), and live workers answering a broker ping."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from caseowner.ops import signals
from caseowner.store import get_store


@dataclass
class WorkerSightings:
    workers: dict[str, float] = field(default_factory=dict)  # hostname → Unix time
    beat: float | None = None


def worker_sightings(*, ping_timeout: float = 1.0) -> WorkerSightings:
    _, gauges = get_store().read()
    seen = WorkerSightings()
    for (name, labels), value in gauges.items():
        if name == signals.WORKER_SEEN:
            seen.workers[dict(labels).get("worker", "")] = value
        elif name == signals.BEAT_SEEN:
            seen.beat = value
    if ping_timeout > 0:
        from caseowner.celery import app

        try:
            replies = app.control.ping(timeout=ping_timeout) or []
        except Exception:  # an unreachable broker means no live worker answered
            replies = []
        now = time.time()
        for reply in replies:
            for hostname in reply:
                seen.workers[hostname] = now
    return seen
