"""Backups: the README's ``pg_dump``/``pg_restore`` commands, round trip. A small data set is
dumped from the test database, restored into a fresh one, and the rows and one case's
timeline compared."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from cases.handoffs import services as hs
from cases.services import case_add_note, case_open
from tests.conftest import IN_CI
from tests.factories import CustomerFactory, TeamFactory, make_agent, offer
from tests.integration.celery_worker import current_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TABLES = [
    "cases_customer", "cases_case", "cases_caseevent", "cases_handoff",
    "commitments_commitment", "notifications_notification", "django_migrations",
]  # fmt: skip


def _tools() -> None:
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            reason = f"needs {tool} (the PostgreSQL client programs) for the backup round trip"
            if IN_CI:
                pytest.fail(f"CI: {reason}")
            pytest.skip(reason)


def _snapshot(url: str, case_id: int) -> dict:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        counts = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            counts[table] = cur.fetchone()[0]
        cur.execute(
            "SELECT kind, at, data::text FROM cases_caseevent WHERE case_id = %s ORDER BY at, id",
            [case_id],
        )
        return {"counts": counts, "timeline": cur.fetchall()}


def test_a_dump_restores_into_a_fresh_database_with_every_row(postgres, tmp_path, figures):
    _tools()
    team = TeamFactory()
    owner, receiver = make_agent(team), make_agent(team)
    case = case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="Backup",
        by=owner, owner=owner,
    )  # fmt: skip
    case_add_note(case=case, by=owner, text="Customer prefers calls after 5 pm.")
    hs.handoff_accept(handoff=offer(case, to=receiver), by=receiver)

    source = current_database_url()
    dump = tmp_path / "caseowner.dump"
    env = {**os.environ, "PGPASSWORD": connection.settings_dict.get("PASSWORD") or ""}
    subprocess.run(["pg_dump", "-Fc", "-d", source, "-f", str(dump)], check=True, env=env)
    name = f"caseowner_restored_{uuid.uuid4().hex[:8]}"
    admin_url = source.rsplit("/", 1)[0] + "/postgres"
    restored = source.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", restored, str(dump)],
            check=True,
            env=env,
        )
        before, after = _snapshot(source, case.pk), _snapshot(restored, case.pk)
        # the append-only trigger came back with the rows
        with psycopg.connect(restored) as conn, pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("UPDATE cases_caseevent SET kind = 'x' WHERE case_id = %s", [case.pk])
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    figures.record(
        "backup: pg_dump and pg_restore round trip",
        rows=sum(before["counts"].values()),
        lost=sum(before["counts"].values()) - sum(after["counts"].values()),
        violations=int(before != after),
        dump_bytes=dump.stat().st_size,
    )
    assert after == before
