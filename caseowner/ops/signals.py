"""Celery signal receivers: task counts by name and state, sweep timings, last-seen times of
workers and beat, and the task name bound on every log line of a task.

Receivers run in whichever process the signal fires in (publishers for ``sent``, the worker
for the rest) and write to the shared store, so ``/metrics`` on any web node sees them all.
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals as celery_signals

from caseowner.ops.sweeps import record_run
from caseowner.store import get_store, series_key

TASKS = "caseowner_celery_tasks"
WORKER_SEEN = "caseowner_celery_worker_last_seen_timestamp_seconds"
BEAT_SEEN = "caseowner_celery_beat_last_seen_timestamp_seconds"

# At most one last-seen write per process and second: a busy worker runs many tasks.
_SEEN_EVERY = 1.0
_seen_at: dict[str, float] = {}
_in_beat = False


def _count(task: str | None, state: str, put: dict[str, float] | None = None) -> None:
    if task:
        get_store().update(incr={series_key(TASKS, {"task": task, "state": state}): 1.0}, put=put)


def _seen(name: str, labels: dict[str, str]) -> dict[str, float]:
    key = series_key(name, labels)
    now = time.time()
    if now - _seen_at.get(key, 0.0) < _SEEN_EVERY:
        return {}
    _seen_at[key] = now
    return {key: now}


def _periodic(task_name: str) -> bool:
    from django.conf import settings

    return task_name in settings.PERIODIC_TASKS


def on_published(sender: str | None = None, **kwargs: Any) -> None:
    put = _seen(BEAT_SEEN, {}) if _in_beat else None
    _count(sender, "sent", put)


def on_prerun(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    if task is None:
        return
    task.request._ops_started = time.monotonic()
    hostname = getattr(task.request, "hostname", None)
    put = _seen(WORKER_SEEN, {"worker": hostname}) if hostname else None
    _count(task.name, "started", put)


def on_postrun(
    task: Any = None, retval: object = None, state: str | None = None, **kw: Any
) -> None:
    if task is None or not _periodic(task.name):
        return
    started = getattr(task.request, "_ops_started", None)
    if started is None:
        return
    failed = state not in (None, "SUCCESS")
    record_run(task=task.name, duration=time.monotonic() - started, result=retval, failed=failed)


def on_success(sender: Any = None, **kwargs: Any) -> None:
    _count(getattr(sender, "name", None), "succeeded")


def on_failure(sender: Any = None, **kwargs: Any) -> None:
    _count(getattr(sender, "name", None), "failed")


def on_retry(sender: Any = None, **kwargs: Any) -> None:
    _count(getattr(sender, "name", None), "retried")


def on_revoked(request: Any = None, **kwargs: Any) -> None:
    _count(getattr(request, "task", None), "revoked")


def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None)
    if hostname:
        get_store().update(put=_seen(WORKER_SEEN, {"worker": hostname}))


def on_beat_init(**kwargs: Any) -> None:
    global _in_beat
    _in_beat = True
    get_store().update(put=_seen(BEAT_SEEN, {}))


def bind_task_name(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    """Every log line of a task carries its name (django-structlog binds its id)."""
    import structlog

    structlog.contextvars.bind_contextvars(task=task.name)


def connect() -> None:
    """Connect once (weak=False: the receivers are module functions that stay)."""
    pairs = [
        (celery_signals.after_task_publish, on_published),
        (celery_signals.task_prerun, on_prerun),
        (celery_signals.task_postrun, on_postrun),
        (celery_signals.task_success, on_success),
        (celery_signals.task_failure, on_failure),
        (celery_signals.task_retry, on_retry),
        (celery_signals.task_revoked, on_revoked),
        (celery_signals.worker_ready, on_worker_ready),
        (celery_signals.beat_init, on_beat_init),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, weak=False, dispatch_uid=f"caseowner.ops.{receiver.__name__}")
    from django_structlog.celery import signals as structlog_signals

    structlog_signals.bind_extra_task_metadata.connect(
        bind_task_name, weak=False, dispatch_uid="caseowner.ops.bind_task_name"
    )
