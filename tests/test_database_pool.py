"""Django's native psycopg pool is opt-in (DATABASE_POOL) and then replaces persistent
connections, which Django refuses to combine with a pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps({'age': d['CONN_MAX_AGE'], 'pool': d['OPTIONS'].get('pool')}))"
)


def database_settings(**env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environ.update(
        DJANGO_SETTINGS_MODULE="caseowner.settings",
        DATABASE_URL="postgres://caseowner@db.example.com/caseowner",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environ, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_the_setting_connections_persist_and_there_is_no_pool():
    assert database_settings() == {"age": 60, "pool": None}


def test_the_pool_is_opt_in_and_turns_persistent_connections_off():
    got = database_settings(DATABASE_POOL="true", DATABASE_POOL_MAX="12")
    assert got == {"age": 0, "pool": {"min_size": 2, "max_size": 12, "timeout": 10.0}}
