"""Invariant 7 on SQLite too: the embedded database refuses UPDATE and DELETE of
``cases_caseevent`` rows with triggers, as PostgreSQL does (0002, 0013).

SQLite has no session settings, so the two exceptions open through a row of
``cases_caseevent_unlock`` that the transaction inserts and deletes again before it commits
(never seen by another connection; SQLite has one writer at a time):

- ``redaction``: the erasure may UPDATE ``data`` alone (id, case, kind, actor and time stay as
  recorded), as ``caseowner.redaction`` allows on PostgreSQL;
- ``flush``: ``manage.py flush`` (and the test runner's flush between transactional tests) may
  empty the table, as TRUNCATE may on PostgreSQL (``cases/management/commands/flush.py``).

A later migration that rebuilds ``cases_caseevent`` on SQLite (most field changes do) drops
these triggers with the old table and must create them again.
"""

from django.db import migrations

UNLOCK_TABLE = "cases_caseevent_unlock"

CREATE = [
    f"CREATE TABLE IF NOT EXISTS {UNLOCK_TABLE} (purpose varchar(20) NOT NULL)",
    f"""
    CREATE TRIGGER caseevent_append_only_update BEFORE UPDATE ON cases_caseevent
    WHEN NOT (
        EXISTS (SELECT 1 FROM {UNLOCK_TABLE} WHERE purpose = 'redaction')
        AND NEW.id = OLD.id
        AND NEW.case_id = OLD.case_id
        AND NEW.kind = OLD.kind
        AND NEW.actor_id IS OLD.actor_id
        AND NEW.at = OLD.at
    )
    BEGIN
        SELECT RAISE(ABORT, 'case timeline is append-only: UPDATE on cases_caseevent is not allowed');
    END
    """,
    f"""
    CREATE TRIGGER caseevent_append_only_delete BEFORE DELETE ON cases_caseevent
    WHEN NOT EXISTS (SELECT 1 FROM {UNLOCK_TABLE} WHERE purpose = 'flush')
    BEGIN
        SELECT RAISE(ABORT, 'case timeline is append-only: DELETE on cases_caseevent is not allowed');
    END
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS caseevent_append_only_update",
    "DROP TRIGGER IF EXISTS caseevent_append_only_delete",
    f"DROP TABLE IF EXISTS {UNLOCK_TABLE}",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0021_inbound_dedupe_by_content")]

    operations = [migrations.RunPython(forwards, backwards)]
