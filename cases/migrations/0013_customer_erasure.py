"""Right to erasure: ``Customer.erased_at``, and the one exception to the append-only
timeline. On PostgreSQL the trigger now lets an UPDATE of ``cases_caseevent`` through only
when the transaction has set ``caseowner.redaction`` to ``on`` (``customer_erase`` does, with
``SET LOCAL``, and sets it back before it writes anything else) and only ``data`` changes:
kind, case, actor and time stay as recorded. DELETE is refused as before."""

from django.db import migrations, models

REDACTABLE = """
CREATE OR REPLACE FUNCTION caseowner_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('caseowner.redaction', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.case_id = OLD.case_id
       AND NEW.kind = OLD.kind
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.at = OLD.at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'case timeline is append-only: % on cases_caseevent is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION caseowner_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case timeline is append-only: % on cases_caseevent is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REDACTABLE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_away_and_cover")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
