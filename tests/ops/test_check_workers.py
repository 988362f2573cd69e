"""manage.py check_workers: exit 1 when no worker or beat was seen lately."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from caseowner.ops import signals
from caseowner.store import get_store, series_key
from tests.ops.conftest import T0


@pytest.fixture
def broker(settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.WORKER_MAX_SILENCE_SECONDS = 60
    monkeypatch.setattr(signals, "_seen_at", {})


def seen(name: str, labels: dict[str, str], ago: float) -> None:
    get_store().update(put={series_key(name, labels): T0.timestamp() - ago})


def test_it_passes_when_a_worker_and_beat_were_seen_lately(broker, frozen, capsys):
    seen(signals.WORKER_SEEN, {"worker": "w1@host"}, ago=5)
    seen(signals.BEAT_SEEN, {}, ago=2)
    call_command("check_workers", "--ping-timeout", "0")
    assert "ok" in capsys.readouterr().out


def test_it_fails_when_no_worker_was_seen_within_the_limit(broker, frozen):
    seen(signals.WORKER_SEEN, {"worker": "w1@host"}, ago=61)
    seen(signals.BEAT_SEEN, {}, ago=2)
    with pytest.raises(CommandError, match="no worker seen") as raised:
        call_command("check_workers", "--ping-timeout", "0")
    assert raised.value.returncode == 1


def test_it_fails_when_beat_was_never_seen(broker, frozen):
    seen(signals.WORKER_SEEN, {"worker": "w1@host"}, ago=1)
    with pytest.raises(CommandError, match="beat never seen"):
        call_command("check_workers", "--ping-timeout", "0")


@pytest.mark.django_db
def test_a_worker_reports_itself_when_it_starts_a_task(broker, frozen):
    from celery.utils.nodenames import gethostname

    from notifications.tasks import sweep_outbox

    sweep_outbox.apply()
    _, gauges = get_store().read()
    assert gauges[(signals.WORKER_SEEN, (("worker", gethostname()),))] == T0.timestamp()


def test_seen_times_move_with_the_clock(broker, frozen):
    seen(signals.WORKER_SEEN, {"worker": "w1@host"}, ago=0)
    seen(signals.BEAT_SEEN, {}, ago=0)
    frozen.shift(timedelta(seconds=120))
    with pytest.raises(CommandError, match="beat not seen for more than 60 s"):
        call_command("check_workers", "--ping-timeout", "0")
