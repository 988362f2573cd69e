"""Invariant 7: the case timeline is append-only. On PostgreSQL a trigger rejects UPDATE and
DELETE of ``cases_caseevent`` rows (TRUNCATE stays possible for the
database owner, which test flushes need); other databases rely on the services never doing it."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION caseowner_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case timeline is append-only: % on cases_caseevent is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER caseevent_append_only
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION caseowner_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS caseevent_append_only ON cases_caseevent;
DROP FUNCTION IF EXISTS caseowner_caseevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
