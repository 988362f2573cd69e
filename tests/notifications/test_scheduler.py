from __future__ import annotations

import pytest

from caseowner import scheduler
from caseowner.celery import beat_schedule


def test_the_beat_schedule_has_one_entry_per_periodic_job(settings):
    schedule = beat_schedule({"notifications.sweep_outbox": 2.0, "cases.sweep_x": 30})
    assert schedule["notifications.sweep_outbox"]["task"] == "notifications.sweep_outbox"
    assert schedule["notifications.sweep_outbox"]["schedule"] == 2.0
    assert schedule["cases.sweep_x"]["schedule"] == 30.0


def test_the_celery_app_uses_the_setting_for_beat(settings):
    from caseowner.celery import app

    assert set(app.conf.beat_schedule) == set(settings.PERIODIC_TASKS)


def test_delivery_settings_follow_the_design(settings):
    from caseowner.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_jobs_not_registered_yet_are_skipped():
    jobs = scheduler.registered_jobs({"notifications.sweep_outbox": 2, "nobody.sweep": 1})
    assert list(jobs) == ["notifications.sweep_outbox"]


def test_each_job_runs_once_per_interval_and_errors_do_not_stop_the_others():
    calls = []

    def boom():
        calls.append("boom")
        raise RuntimeError("broken job")

    jobs = {"a": (lambda: calls.append("a"), 2.0), "b": (boom, 5.0)}
    next_run: dict[str, float] = {}

    assert scheduler.run_due(jobs, next_run, now=100.0) == ["a", "b"]
    assert scheduler.run_due(jobs, next_run, now=101.0) == []
    assert scheduler.run_due(jobs, next_run, now=102.0) == ["a"]
    assert scheduler.run_due(jobs, next_run, now=105.0) == ["a", "b"]
    assert calls == ["a", "boom", "a", "a", "boom"]


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["manage.py", "runserver"], {}, False),  # the autoreloader's watcher
        (["manage.py", "runserver"], {"RUN_MAIN": "true"}, True),  # the serving child
        (["manage.py", "runserver", "--noreload"], {}, True),
        (["manage.py", "migrate"], {}, False),
        (["/venv/bin/gunicorn", "caseowner.wsgi"], {}, True),
        (["/venv/bin/celery", "-A", "caseowner", "worker"], {}, False),
        (["/venv/bin/pytest"], {}, False),
    ],
)
def test_the_scheduler_starts_only_in_a_serving_process(argv, env, expected):
    assert scheduler.should_start(argv, env) is expected


@pytest.mark.django_db
def test_the_in_process_sweep_delivers_without_a_broker(
    enqueue, django_capture_on_commit_callbacks
):
    from django.core import mail

    from notifications.tasks import sweep_outbox

    enqueue("k")
    jobs = scheduler.registered_jobs({"notifications.sweep_outbox": 1})
    # The thread calls the task function directly; tasks it queues run eagerly.
    with django_capture_on_commit_callbacks(execute=True):
        jobs["notifications.sweep_outbox"][0]()
    assert sweep_outbox.name == "notifications.sweep_outbox"
    assert len(mail.outbox) == 1


def _started_by(app_label, monkeypatch, settings, *, in_process=True):
    """The periodic jobs an app's ready() hands to the scheduler in a serving process."""
    from django.apps import apps

    started = []
    settings.OUTBOX_IN_PROCESS = in_process
    monkeypatch.setattr(scheduler, "should_start", lambda: True)
    monkeypatch.setattr(scheduler, "start", lambda tasks: started.append(tasks) or True)
    apps.get_app_config(app_label).ready()
    return started


def test_the_project_starts_the_scheduler_in_a_serving_process(monkeypatch, settings):
    assert _started_by("caseowner", monkeypatch, settings) == [settings.PERIODIC_TASKS]


def test_the_notifications_app_starts_no_scheduler(monkeypatch, settings):
    """The scheduler runs every app's jobs: the outbox app does not own it."""
    assert _started_by("notifications", monkeypatch, settings) == []


def test_the_project_starts_no_scheduler_without_the_in_process_setting(monkeypatch, settings):
    assert _started_by("caseowner", monkeypatch, settings, in_process=False) == []
