"""The database settings, read from the environment: PostgreSQL (``DATABASE_URL``) or the
embedded SQLite, Django's own pool or a persistent connection per thread, PgBouncer in front
of it or not, prepared statements for the hot reads, and a streaming replica for the
managers' pages. ``caseowner.settings`` takes the result as its ``DATABASES`` and flags.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ

POSTGRES_ENGINES = ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2")


@dataclass(frozen=True)
class DatabaseSettings:
    databases: dict[str, dict[str, Any]]
    is_postgres: bool
    # "pgbouncer" when the app reaches PostgreSQL through PgBouncer in transaction mode
    pooler: str
    # the hot reads' statements (caseowner/bound.py) are prepared per connection
    prepared_statements: bool


def database_settings(env: environ.Env, var_dir: Path) -> DatabaseSettings:
    db = env.db_url("DATABASE_URL", default=f"sqlite:///{var_dir / 'caseowner.sqlite3'}")
    is_postgres = db["ENGINE"] in POSTGRES_ENGINES
    if is_postgres:
        _postgres(env, db)
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        var_dir.mkdir(exist_ok=True)
        db.setdefault("OPTIONS", {})
        # WAL lets the in-process scheduler thread and the web server share the file.
        db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
        db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
        db["OPTIONS"].setdefault("timeout", 20)

    # Behind PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer) a server connection is
    # the client's for one transaction only: no server-side cursors, no prepared statements,
    # no session settings (PgBouncer's own idle_transaction_timeout replaces the one above).
    pooler = env.str("DATABASE_POOLER", default="")
    if is_postgres and pooler == "pgbouncer":
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
        db["OPTIONS"].pop("options", None)
        db["OPTIONS"]["prepare_threshold"] = None
    # The hot reads' statements are prepared on a direct connection, which keeps them for its
    # life; PgBouncer in transaction mode would hand them to other clients.
    prepared = env.bool("DATABASE_PREPARED_STATEMENTS", default=pooler != "pgbouncer")
    if is_postgres and prepared:
        # psycopg prepares nothing without a threshold; the ORM's client-side cursors never
        # prepare, so only the statements that ask (prepare=True) are. Those keep one generic
        # plan: their constants are in the text (partial indexes apply), their inputs are ids
        # and instants, and replanning the queue's page cost more than running it.
        db["OPTIONS"]["prepare_threshold"] = 2**31 - 1
        db["OPTIONS"]["options"] = (
            db["OPTIONS"].get("options", "") + " -c plan_cache_mode=force_generic_plan"
        ).strip()

    databases = {"default": db}
    # The managers' pages may read a streaming replica (caseowner/db_router.py); tests mirror it.
    if is_postgres and env.str("DATABASE_REPLICA_URL", default=""):
        replica = env.db_url("DATABASE_REPLICA_URL")
        databases["replica"] = {
            **copy.deepcopy(db),
            **{k: replica[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT") if k in replica},
            "TEST": {"MIRROR": "default"},
        }
    return DatabaseSettings(databases, is_postgres, pooler, prepared)


def _postgres(env: environ.Env, db: dict[str, Any]) -> None:
    # The same backend, counting queries, errors and connections for /metrics (the embedded
    # SQLite stays plain, as test runners expect it).
    db["ENGINE"] = "django_prometheus.db.backends.postgresql"
    db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    db["CONN_HEALTH_CHECKS"] = True
    db.setdefault("OPTIONS", {})
    # A session idle inside a transaction pins the xmin horizon and bloats the outbox: the
    # server ends it after this many milliseconds.
    db["OPTIONS"].setdefault(
        "options",
        "-c idle_in_transaction_session_timeout="
        f"{env.int('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', default=60000)}",
    )
    # Opt-in: Django's native psycopg pool (needs psycopg-pool). Each process keeps
    # DATABASE_POOL_MIN..MAX connections open and lends them per request, instead of one
    # persistent connection per thread (CONN_MAX_AGE must then be 0).
    if env.bool("DATABASE_POOL", default=False):
        db["CONN_MAX_AGE"] = 0
        db["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=8),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    db.setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default="test_caseowner")
