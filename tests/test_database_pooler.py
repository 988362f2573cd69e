"""Past one database server, as configured: behind PgBouncer in transaction mode nothing
outlives a transaction, and a replica is an alias the test runner mirrors (read in one
subprocess per configuration: settings are read once per process)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES; "
    "print(json.dumps({alias: {'cursors': c.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'options': c['OPTIONS'], 'host': c['HOST'], 'port': c['PORT'], 'test': c.get('TEST')} "
    "for alias, c in d.items()} | {'routers': settings.DATABASE_ROUTERS}))"
)


@functools.cache
def databases(**env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environ.update(
        DJANGO_SETTINGS_MODULE="caseowner.settings",
        DATABASE_URL="postgres://caseowner@pooler.example.com:6432/caseowner",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environ, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_pgbouncer_no_cursor_prepared_statement_or_session_setting_outlives_a_transaction():
    got = databases(DATABASE_POOLER="pgbouncer")["default"]
    assert got["cursors"] is True
    assert got["options"]["prepare_threshold"] is None
    assert "options" not in got["options"]  # no session setting at connection time
    direct = databases()["default"]
    assert direct["cursors"] is False
    assert "idle_in_transaction_session_timeout" in direct["options"]["options"]


def test_a_replica_is_an_alias_mirrored_in_tests_and_without_it_there_is_none():
    got = databases(
        DATABASE_POOLER="pgbouncer",
        DATABASE_REPLICA_URL="postgres://reader@replica.example.com:5433/caseowner",
    )
    assert got["replica"]["host"] == "replica.example.com"
    assert got["replica"]["port"] == 5433
    assert got["replica"]["test"] == {"MIRROR": "default"}
    assert got["replica"]["cursors"] is True  # the pooler's rules follow the primary's
    assert got["routers"] == ["caseowner.db_router.ReplicaRouter"]
    assert "replica" not in databases()
