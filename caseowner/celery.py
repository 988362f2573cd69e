"""The Celery application. Configured from Django settings (``CELERY_*``).

The beat schedule is built from ``settings.PERIODIC_TASKS`` (task name → seconds), the same
list the in-process scheduler (``caseowner.scheduler``) runs when there is no broker. Future
work is never scheduled with ETA/countdown: it waits as rows in the database.
"""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseowner.settings")

app = Celery("caseowner")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Workers bind each task's id, name and the publisher's request id on its log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def _django_logging(**kwargs: object) -> None:
    """Workers and beat log like the web (``LOG_FORMAT``), not in Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def beat_schedule(periodic_tasks: dict[str, float]) -> dict[str, dict]:
    """One beat entry per periodic job; a run that could not start in time is dropped,
    never queued up (each job catches up on its own: it sweeps everything due)."""
    return {
        name: {
            "task": name,
            "schedule": float(seconds),
            "options": {"expires": max(60.0, 10 * float(seconds))},
        }
        for name, seconds in periodic_tasks.items()
    }


@app.on_after_finalize.connect
def _set_beat_schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings.PERIODIC_TASKS)
