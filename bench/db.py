"""The benchmark's own database: derived from ``DATABASE_URL``, marked, never anyone else's.

The benchmark writes millions of rows and changes data while it measures, so it never runs on
the database ``DATABASE_URL`` names. It uses ``<name>_bench_<scale>`` on the same server,
creates it when missing and marks it with a ``bench_marker`` table. A database that holds cases
but carries no marker is refused.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

MARKER_TABLE = "bench_marker"
EXIT_REFUSED = 2


class Refused(SystemExit):
    """The benchmark will not run here; the message says why."""

    def __init__(self, message: str) -> None:
        print(f"bench: {message}", file=sys.stderr)
        super().__init__(EXIT_REFUSED)


def scale_tag(scale: float) -> str:
    """``0.1`` → ``0_1``; ``1`` → ``1`` (a database-name-safe spelling of the scale)."""
    text = f"{scale:g}"
    if "e" in text:
        text = f"{scale:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", "_").replace("-", "m")


@dataclass(frozen=True)
class Target:
    source_url: str
    url: str
    name: str
    admin_url: str


def bench_target(database_url: str | None, scale: float) -> Target:
    """The benchmark database for ``scale`` next to the one ``database_url`` names."""
    if not database_url:
        raise Refused(
            "DATABASE_URL is not set. The benchmark runs on PostgreSQL only, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseowner make bench"
        )
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        raise Refused(
            f"the benchmark runs on PostgreSQL only; DATABASE_URL is {parts.scheme}://… "
            "(SQLite and other engines are refused)."
        )
    source = parts.path.lstrip("/") or "caseowner"
    base = source.split("_bench_")[0] if "_bench_" in source else source
    name = f"{base}_bench_{scale_tag(scale)}"
    if len(name) > 63:
        raise Refused(f"the derived database name {name!r} is longer than PostgreSQL allows.")
    url = urlunsplit(parts._replace(scheme="postgres", path=f"/{name}"))
    admin_url = urlunsplit(parts._replace(scheme="postgres", path="/postgres"))
    return Target(source_url=database_url, url=url, name=name, admin_url=admin_url)


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(_conninfo(url), connect_timeout=10, **kwargs)


def database_exists(target: Target) -> bool:
    with connect(target.admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target.name]).fetchone()
    return row is not None


def _table_exists(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"]).fetchone()
    return bool(row and row[0])


def check_not_foreign(target: Target) -> None:
    """Refuse a database that holds cases (or any app rows) without the benchmark's marker."""
    with connect(target.url, autocommit=True) as conn:
        if _table_exists(conn, MARKER_TABLE):
            return
        for table in ("cases_case", "cases_customer", "notifications_notification"):
            if _table_exists(conn, table):
                row = conn.execute(
                    sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
                ).fetchone()
                if row and row[0]:
                    raise Refused(
                        f"database {target.name!r} holds data ({table}) and is not a benchmark "
                        "database (no bench_marker table). Refusing to touch it."
                    )


def ensure_database(target: Target) -> bool:
    """Create the benchmark database if missing and mark it. True if it was created."""
    created = False
    if not database_exists(target):
        with connect(target.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
        created = True
    check_not_foreign(target)
    with connect(target.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text NOT NULL)"
            ).format(sql.Identifier(MARKER_TABLE))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (key, value) VALUES ('purpose', 'caseowner benchmark data') "
                "ON CONFLICT (key) DO NOTHING"
            ).format(sql.Identifier(MARKER_TABLE))
        )
    return created


# The README's production planner settings that need no restart, set on the benchmark
# database itself (the server's own configuration is left alone): with the defaults
# (random_page_cost 4, made for spinning disks) PostgreSQL walks a whole quarter of every
# team's hand-offs by date rather than the team's index, for data that is in memory.
PLANNER_SETTINGS = {
    "random_page_cost": "1.1",
    "effective_cache_size": "12GB",
    "work_mem": "16MB",
    "effective_io_concurrency": "200",
}


def apply_planner_settings(target: Target) -> None:
    """``ALTER DATABASE … SET`` each of PLANNER_SETTINGS (new sessions read them)."""
    with connect(target.admin_url, autocommit=True) as conn:
        for name, value in PLANNER_SETTINGS.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(target.name), sql.Identifier(name), sql.Literal(value)
                )
            )


def drop_database(target: Target) -> None:
    """Drop the benchmark database (only ever one carrying the marker)."""
    if not database_exists(target):
        return
    with connect(target.url, autocommit=True) as conn:
        if not _table_exists(conn, MARKER_TABLE):
            raise Refused(f"database {target.name!r} has no bench_marker; not dropping it.")
    with connect(target.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target.name)))


def marker_get(cur, key: str) -> str | None:  # a DB-API cursor
    cur.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = %s", [key])
    row = cur.fetchone()
    return row[0] if row else None


def marker_set(cur, key: str, value: str) -> None:  # a DB-API cursor
    cur.execute(
        f"INSERT INTO {MARKER_TABLE} (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [key, value],
    )


def point_django_at(target: Target) -> None:
    """Make Django's settings read the benchmark database (call before ``django.setup()``)."""
    os.environ["DATABASE_URL"] = target.url


# What the figures depend on: printed with every run and kept in its JSON.
SERVER_SETTINGS = (
    "server_version",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "random_page_cost",
    "synchronous_commit",
    "max_connections",
    "autovacuum",
    "autovacuum_vacuum_scale_factor",
    "idle_in_transaction_session_timeout",
    "effective_io_concurrency",
    "plan_cache_mode",
)


def server_settings() -> dict[str, str]:
    """``SHOW`` each of SERVER_SETTINGS on Django's connection, plus the database pool."""
    from django.conf import settings
    from django.db import connection

    values: dict[str, str] = {}
    with connection.cursor() as cursor:
        for name in SERVER_SETTINGS:
            cursor.execute(f"SHOW {name}")
            values[name] = str(cursor.fetchone()[0])
    values["django_pool"] = str(bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool")))
    return values
