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
    "SECRET_KEY": "k3Vq9-Zr2Lx8Wp0Tn5Yb7Hc1Jd4Fg6Ms2Qa8Ue0Io3Pl5Kj7Hg9Df1Sa3Zx5Cv",
    "ALLOWED_HOSTS": "caseowner.example.com",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp+tls://user:secret@relay.example.com:587",
    "SITE_URL": "https://caseowner.example.com",
    "DATABASE_URL": "postgres://caseowner@db.example.com/caseowner",
    "DEFAULT_FROM_EMAIL": "Support <support@example.com>",
    "INBOUND_DOMAIN": "reply.example.com",
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
        # the development sender and reply domain: replies to notices would go nowhere
        ({"DEFAULT_FROM_EMAIL": None}, "DEFAULT_FROM_EMAIL"),
        ({"DEFAULT_FROM_EMAIL": "Support <support@caseowner.test>"}, "DEFAULT_FROM_EMAIL"),
        ({"INBOUND_DOMAIN": None}, "INBOUND_DOMAIN"),
        ({"INBOUND_DOMAIN": "reply.caseowner.test"}, "INBOUND_DOMAIN"),
    ],
)
def test_production_refuses_a_development_default(changes, named):
    result = load_settings(**changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"- {named}" in result.stderr


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        # no database named: the embedded SQLite file would hold production data
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////srv/caseowner.sqlite3"}, "DATABASE_URL"),
        # DEBUG shows settings and data in error pages, and installs the demo loader
        ({"DEBUG": "true"}, "DEBUG"),
        # a broker or cache each process keeps to itself
        ({"CELERY_BROKER_URL": "memory://"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "filesystem://"}, "CELERY_BROKER_URL"),
        ({"CACHE_URL": "locmemcache://"}, "CACHE_URL"),
        ({"CACHE_URL": "dummycache://"}, "CACHE_URL"),
        # any Host header accepted
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "caseowner.example.com,*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        # long enough but guessable
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "p" * 60}, "SECRET_KEY"),
        ({"SECRET_KEY": "abab" * 15}, "SECRET_KEY"),
        ({"SECRET_KEY": "x7" * 10}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production" * 2}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "k3Vq9Zr2Lx8Wp0Tn5Yb7Hc1Jd4Fg6Ms2Qa8"}, "SECRET_KEY"),
        ({"SECRET_KEY": "changeme-" * 6}, "SECRET_KEY"),
        # the inbound mail endpoint's shared secret, guessable
        ({"INBOUND_MAIL_SECRET": "x"}, "INBOUND_MAIL_SECRET"),
        ({"INBOUND_MAIL_SECRET": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"}, "INBOUND_MAIL_SECRET"),
    ],
)
def test_production_refuses_an_unsafe_setting(changes, named):
    result = load_settings(**changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"- {named} (" in result.stderr


def test_production_names_every_problem_at_once():
    result = load_settings(DEBUG="true", SECRET_KEY="p" * 60, ALLOWED_HOSTS="*")
    assert result.returncode != 0
    for named in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"):
        assert f"- {named} (" in result.stderr


def test_production_accepts_a_long_inbound_mail_secret_or_none():
    long_secret = "qZr2Lx8Wp0Tn5Yb7Hc1Jd4Fg6Ms2Qa8Ue"
    assert load_settings(INBOUND_MAIL_SECRET=long_secret).returncode == 0
    assert load_settings(INBOUND_MAIL_SECRET=None).returncode == 0


def test_production_never_installs_the_demo():
    result = _settings_process(
        {k: v for k, v in os.environ.items() if k != "DEBUG"} | COMPLETE,
        "print('demo' in settings.INSTALLED_APPS, settings.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_the_ci_deploy_check_environment_loads():
    """The variables .ci/run gives ``check --deploy``: no inbound mail secret, PostgreSQL."""
    result = load_settings(
        SECRET_KEY="ci-" + "Qm4x9Zr2Lx8Wp0Tn5Yb7Hc1Jd4Fg6Ms2Qa8Ue0Io3Pl5Kj7Hg9Df1Sa3Zx5Cv"[:60],
        INBOUND_MAIL_SECRET=None,
        EMAIL_URL="smtp+tls://relay.example.com:587",
        DEFAULT_FROM_EMAIL="caseowner <support@example.com>",
        INBOUND_DOMAIN="reply.example.com",
    )
    assert result.returncode == 0, result.stderr


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


def test_production_refuses_pages_without_htmx(tmp_path):
    """The pages load htmx from /static/: production starts once it is installed from npm
    (frontend/node_modules) or already collected into STATIC_ROOT, and not before."""
    import environ
    from django.conf import settings

    from caseowner.production import production_problems

    values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    values.update(HTMX_DIST=tmp_path / "node_modules", STATIC_ROOT=tmp_path / "static")

    def htmx_named() -> bool:
        return any(
            "npm ci --prefix frontend" in p for p in production_problems(values, environ.Env())
        )

    assert htmx_named()
    collected = tmp_path / "static" / "vendor" / "htmx" / "htmx.min.js"
    collected.parent.mkdir(parents=True)
    collected.write_text("/* htmx */")
    assert not htmx_named()
