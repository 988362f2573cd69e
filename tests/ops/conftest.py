from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from caseowner.store import memory_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 in London


@pytest.fixture(autouse=True)
def ops_store(settings):
    """Each test starts with empty figures in process memory (never a shared Redis)."""
    settings.OPS_STORE_URL = ""
    memory_store().clear()
    yield memory_store()
    memory_store().clear()


@pytest.fixture(autouse=True)
def _tasks_in_process(_celery_eager):
    """Every test here runs Celery tasks in-process (``_celery_eager``, tests/conftest.py)."""


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def open_metrics(settings):
    """Scrapes from the test client's address are let in, without a token."""
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client, **headers) -> Samples:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}
