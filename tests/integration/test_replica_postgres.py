"""A real streaming replica (CI: ``.ci/db_servers`` makes 127.0.0.1:5433 with pg_basebackup
from the cluster on 5432): what the primary commits reaches it, it refuses writes, and the
lag a page shows (``caseowner.db_router.ReplicaLag``) is read from it.

A standby cannot hold a test database of its own, so these tests work in a database made on
the primary for them (``caseowner_replica_check``), outside Django's test databases."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connections

from caseowner.db_router import REPLICA, ReplicaLag
from tests.conftest import IN_CI, require_postgres

PRIMARY = os.environ.get("REPLICA_CHECK_PRIMARY", "host=127.0.0.1 port=5432 user=postgres")
STANDBY = os.environ.get("REPLICA_CHECK_STANDBY", "host=127.0.0.1 port=5433 user=postgres")
DB = "caseowner_replica_check"


def _connect(conninfo: str, dbname: str = DB) -> psycopg.Connection:
    return psycopg.connect(f"{conninfo} dbname={dbname} connect_timeout=3", autocommit=True)


def _until(check, what: str, seconds: float = 15.0) -> None:
    """Replication is asynchronous: wait for it, briefly and boundedly."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not catch up: {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    require_postgres()
    try:
        with _connect(STANDBY, "postgres") as probe:
            standby = probe.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    except psycopg.OperationalError:
        standby = False
    if not standby:
        reason = f"needs a streaming replica at {STANDBY} (.ci/db_servers makes one)"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    with _connect(PRIMARY, "postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            admin.execute(f"CREATE DATABASE {DB}")
    primary = _connect(PRIMARY)
    primary.execute("CREATE TABLE IF NOT EXISTS marks (mark text PRIMARY KEY)")

    def reachable() -> bool:
        try:
            _connect(STANDBY).close()
        except psycopg.OperationalError:
            return False
        return True

    _until(reachable, f"{DB} on the standby")
    replica = _connect(STANDBY)
    yield primary, replica
    primary.close()
    replica.close()


def test_what_the_primary_commits_reaches_the_replica_which_refuses_writes(servers):
    primary, replica = servers
    mark = uuid.uuid4().hex
    primary.execute("INSERT INTO marks VALUES (%s)", [mark])
    lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    _until(
        lambda: replica.execute("SELECT pg_last_wal_replay_lsn() >= %s", [lsn]).fetchone()[0],
        f"replay of {lsn}",
    )
    assert replica.execute("SELECT 1 FROM marks WHERE mark = %s", [mark]).fetchone()
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        replica.execute("INSERT INTO marks VALUES ('written on the replica')")


def test_the_lag_a_page_shows_is_read_from_the_standby(servers, django_db_blocker):
    default = connections["default"].settings_dict
    _, _, port = STANDBY.partition("port=")
    connections.settings[REPLICA] = {
        **default,
        "NAME": DB,
        "HOST": "127.0.0.1",
        "PORT": port.split()[0] if port else "5433",
        "USER": "postgres",
        "PASSWORD": "",
        "OPTIONS": {},
    }
    try:
        with django_db_blocker.unblock():
            lag = ReplicaLag()
            assert lag.standby
            assert lag.seconds is not None and 0 <= lag.seconds < 60
            connections[REPLICA].close()
    finally:
        del connections[REPLICA]
        del connections.settings[REPLICA]
