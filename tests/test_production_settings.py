"""Production refuses to start on a development default, saying what to set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

COMPLETE = {
    "CASEOWNER_PRODUCTION": "true",
    "SECRET_KEY": "p" * 60,
    "ALLOWED_HOSTS": "caseowner.example.com",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp+tls://user:secret@relay.example.com:587",
    "SITE_URL": "https://caseowner.example.com",
    "DATABASE_URL": "postgres://caseowner@db.example.com/caseowner",
}


def load_settings(**changes: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in COMPLETE and k != "DEBUG"}
    env.update(COMPLETE)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return _settings_process(env, "settings.INSTALLED_APPS")


def _settings_process(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """A fresh interpreter that loads the settings from ``env`` and evaluates ``expression``."""
    env["DJANGO_SETTINGS_MODULE"] = "caseowner.settings"
    return subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; {expression}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_production_settings_load():
    result = load_settings()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
        ({"CACHE_URL": None}, "CACHE_URL"),
        ({"EMAIL_URL": None}, "EMAIL_URL"),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL"),
        ({"SITE_URL": None}, "SITE_URL"),
        ({"SITE_URL": "http://127.0.0.1:8000"}, "SITE_URL"),
    ],
)
def test_production_refuses_a_development_default(changes, named):
    result = load_settings(**changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"- {named}" in result.stderr


def test_the_proxy_header_is_trusted_only_behind_a_proxy():
    probe = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = {**os.environ, **COMPLETE, "DJANGO_SETTINGS_MODULE": "caseowner.settings"}
    direct = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    proxied = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "BEHIND_PROXY": "true"},
        capture_output=True,
        text=True,
    )
    assert direct.stdout.strip() == "None"
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def _session_engine(**changes: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DEBUG")}
    env.update({k: v for k, v in changes.items() if v is not None})
    result = _settings_process(env, "print(settings.SESSION_ENGINE)")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().rsplit(".", 1)[-1]


def test_sessions_are_read_from_the_shared_cache_only_when_there_is_one():
    # a cache every process shares: sessions read from it, written through to the database
    assert _session_engine(CACHE_URL="redis://127.0.0.1:6379/1") == "cached_db"
    # each process's own memory would keep a session another process has ended
    assert _session_engine(CACHE_URL=None) == "db"
