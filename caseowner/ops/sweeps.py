"""Timing of the periodic jobs (the sweeps), kept in the shared store.

Beat and workers run the sweeps in other processes than the web (or in the web's scheduler
thread in the embedded default), so each run writes its end time, duration and rows to
``caseowner.store``: Redis when there is one, process memory otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from caseowner.store import get_store, series_key

LAST_RUN = "caseowner_sweep_last_run_timestamp_seconds"
LAST_DURATION = "caseowner_sweep_last_duration_seconds"
LAST_ROWS = "caseowner_sweep_last_rows"
RUNS = "caseowner_sweep_runs"
ROWS = "caseowner_sweep_rows"
ERRORS = "caseowner_sweep_errors"

# What a sweep's result counts as rows claimed; other keys (archived rows) are housekeeping.
_CLAIM_KEYS = ("claimed", "reclaimed", "reminded", "escalated", "expired")


def rows_of(result: object) -> int:
    """Rows a periodic job took on: an int result, or the claim counts of a dict result."""
    if isinstance(result, bool):
        return 0
    if isinstance(result, int):
        return result
    if isinstance(result, Mapping):
        return sum(int(v) for k, v in result.items() if k in _CLAIM_KEYS and isinstance(v, int))
    return 0


def record_run(*, task: str, duration: float, result: object, failed: bool = False) -> None:
    """One run of a periodic job ended now after ``duration`` seconds."""
    labels = {"task": task}
    rows = 0 if failed else rows_of(result)
    incr = {series_key(RUNS, labels): 1.0, series_key(ROWS, labels): float(rows)}
    if failed:
        incr[series_key(ERRORS, labels)] = 1.0
    get_store().update(
        incr=incr,
        put={
            series_key(LAST_RUN, labels): time.time(),
            series_key(LAST_DURATION, labels): round(duration, 6),
            series_key(LAST_ROWS, labels): float(rows),
        },
    )
