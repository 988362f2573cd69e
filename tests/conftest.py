"""Shared fixtures. Integration tests need real services: they skip with a reason when a
service is absent, except in CI (``CI=true``), where a missing service fails the run."""

from __future__ import annotations

import os
import socket
from typing import Any

import hypothesis
import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Nothing random decides a run: every property test draws from a seed derived from its own
# name and keeps no example database between runs. ``make fuzz`` (FUZZ_SEED) explores instead.
hypothesis.settings.register_profile("fixed", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", derandomize=False, database=None)
hypothesis.settings.load_profile("explore" if os.environ.get("FUZZ_SEED") else "fixed")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if not settings.IS_POSTGRES:
        reason = "needs PostgreSQL: set DATABASE_URL=postgres://… (make test on SQLite skips it)"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)


def require_redis() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        reason = "needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if not _port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        reason = f"Redis is not answering at {url}"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres() -> None:
    require_postgres()


@pytest.fixture
def redis_url() -> str:
    require_postgres()
    return require_redis()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        # Real worker processes, races and crashes run alone, in make test's second pass;
        # a reliability test that needs the database only says so (``parallel_pass``).
        if ("/integration/" in path or "/reliability/" in path) and not item.get_closest_marker(
            "parallel_pass"
        ):
            item.add_marker(pytest.mark.serial)


@pytest.fixture(autouse=True)
def _isolated_settings(settings) -> None:
    # Tests never write to the console and never lock anyone out.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_process_cache() -> None:
    """Each test starts with an empty in-process cache: figures kept for an earlier test's
    rows (ids come back after a rollback on SQLite) never answer for this one's."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def world(db) -> dict[str, Any]:
    """Two teams, Billing (``team``) and Repairs (``other``); a case of Billing owned by
    ``owner``; ``receiver`` and ``colleague`` work beside them, ``outsider`` in Repairs;
    ``manager`` manages Billing, ``other_manager`` Repairs."""
    from tests.factories import CaseFactory, TeamFactory, make_agent, make_manager

    team, other = TeamFactory(name="Billing"), TeamFactory(name="Repairs")
    owner = make_agent(team)
    receiver = make_agent(team)
    colleague = make_agent(team)
    outsider = make_agent(other)
    manager = make_manager(team)
    other_manager = make_manager(other)
    case = CaseFactory(team=team, owner=owner)
    return {
        "team": team,
        "other": other,
        "owner": owner,
        "receiver": receiver,
        "colleague": colleague,
        "outsider": outsider,
        "manager": manager,
        "other_manager": other_manager,
        "case": case,
    }


@pytest.fixture
def _celery_eager():
    """Tasks run in-process even when a broker is configured (``CELERY_BROKER_URL`` for the
    integration tests): a unit test sees what a worker would have done."""
    from caseowner.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def _keep_the_test_connection():
    """Called as a WSGI app (schemathesis does), Django would close the connection that holds
    the test's transaction at the end of each request; its test client avoids it the same
    way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
