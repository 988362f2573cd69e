"""The demo is a development tool: installed only with DEBUG on, never run on production
settings, and built through the same services as everything else."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

import caseowner
from cases.models import Team

SETTINGS_FILE = Path(caseowner.__file__).parent / "settings.py"
# The test run reads the settings with DEBUG on by default, as `make demo` does.
needs_demo = pytest.mark.skipif(
    not apps.is_installed("demo"), reason="the demo app is installed only with DEBUG on"
)
PRODUCTION_ENV = {
    "CASEOWNER_PRODUCTION": "true",
    "SECRET_KEY": "k3Vq9-Zr2Lx8Wp0Tn5Yb7Hc1Jd4Fg6Ms2Qa8Ue0Io3Pl5Kj7Hg9Df1Sa3Zx5Cv",
    "ALLOWED_HOSTS": "caseowner.example.com",
    "DATABASE_URL": "postgres://caseowner@db.example.com/caseowner",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp+tls://relay.example.com:587",
    "SITE_URL": "https://caseowner.example.com",
    "DEFAULT_FROM_EMAIL": "Support <support@example.com>",
    "INBOUND_DOMAIN": "reply.example.com",
}


def _installed_apps(monkeypatch, **environ: str) -> list[str]:
    """INSTALLED_APPS as the settings module computes it at import under this environment."""
    for name in ("DEBUG", *PRODUCTION_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["INSTALLED_APPS"]


def test_the_demo_app_is_installed_with_debug_on(monkeypatch):
    assert "demo" in _installed_apps(monkeypatch, DEBUG="true")


def test_the_demo_app_is_not_installed_with_debug_off(monkeypatch):
    assert "demo" not in _installed_apps(monkeypatch, DEBUG="false")


def test_production_settings_do_not_install_the_demo_app(monkeypatch):
    assert "demo" not in _installed_apps(monkeypatch, **PRODUCTION_ENV)


@needs_demo
@pytest.mark.django_db
def test_load_demo_refuses_production_settings(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with production settings"):
        call_command("load_demo")
    assert not Team.objects.exists()
