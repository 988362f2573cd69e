"""The in-process scheduler: the periodic jobs of ``settings.PERIODIC_TASKS`` in a daemon
thread of the web process, for the embedded default (no broker, no beat, no worker).

Each job's task function is called directly every interval; names whose app has not
registered the task yet are skipped. A job that raises is logged and tried next interval.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping

from caseowner.ops.sweeps import record_run

logger = logging.getLogger(__name__)

_started = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


Job = tuple[Callable[[], object], float]


def registered_jobs(periodic_tasks: dict[str, float]) -> dict[str, Job]:
    """The periodic jobs whose Celery task exists: name → (function, interval)."""
    from caseowner.celery import app

    # A worker imports every app's tasks.py at start; the web process must ask for it.
    app.loader.import_default_modules()
    jobs = {}
    for name, interval in periodic_tasks.items():
        task = app.tasks.get(name)
        if task is None:
            logger.info("scheduler: %s is not registered, skipped", name)
            continue
        jobs[name] = (task.run, float(interval))
    return jobs


def run_due(jobs: dict[str, Job], next_run: dict[str, float], now: float) -> list[str]:
    """Run every job whose time has come; returns the names run."""
    ran = []
    for name, (function, interval) in jobs.items():
        if next_run.get(name, 0.0) > now:
            continue
        next_run[name] = now + interval
        started = time.monotonic()
        result: object = None
        failed = False
        try:
            result = function()
        except Exception:
            failed = True
            logger.exception("scheduler: %s failed", name)
        record_run(task=name, duration=time.monotonic() - started, result=result, failed=failed)
        ran.append(name)
    return ran


def _loop(periodic_tasks: dict[str, float]) -> None:
    jobs = registered_jobs(periodic_tasks)
    if not jobs:
        return
    logger.info("scheduler: running %s in-process", ", ".join(sorted(jobs)))
    next_run: dict[str, float] = {}
    tick = min(interval for _, interval in jobs.values())
    from django.db import close_old_connections

    while not _stop.is_set():
        run_due(jobs, next_run, time.monotonic())
        # Like a request's end: drop a connection the database closed or that is too old.
        close_old_connections()
        _stop.wait(max(0.05, min(tick, min(next_run.values()) - time.monotonic())))


def should_start(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Only in a serving process: runserver's child (not the autoreloader's parent), gunicorn
    or another WSGI/ASGI server — never migrate, shell, tests or Celery."""
    argv = sys.argv if argv is None else argv
    env: Mapping[str, str] = os.environ if environ is None else environ
    program = os.path.basename(argv[0]) if argv else ""
    command = argv[1] if len(argv) > 1 else ""
    if program in ("manage.py", "django-admin") or program.endswith("manage.py"):
        if command != "runserver":
            return False
        reloading = "--noreload" not in argv
        # With the autoreloader, the parent only watches files; the child serves.
        return env.get("RUN_MAIN") == "true" or not reloading
    if "pytest" in program or "celery" in program:
        return False
    return "gunicorn" in program or "uvicorn" in program or "daphne" in program


def start(periodic_tasks: dict[str, float]) -> bool:
    """Start the scheduler thread once per process; returns whether it was started now."""
    global _thread
    with _started:
        if _thread is not None and _thread.is_alive():
            return False
        _stop.clear()
        _thread = threading.Thread(
            target=_loop, args=(dict(periodic_tasks),), name="caseowner-scheduler", daemon=True
        )
        _thread.start()
        return True


def stop() -> None:
    _stop.set()
