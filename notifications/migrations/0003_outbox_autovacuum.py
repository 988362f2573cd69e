"""The outbox is a queue table: rows are updated and deleted all day. Vacuum it early and
often on PostgreSQL, so dead rows never pile up in front of the sweep's index scan."""

from django.db import migrations

TABLES = ["notifications_notification", "notifications_notificationtag"]


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.01, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02, "
            "autovacuum_vacuum_cost_delay = 0)"
        )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor, "
            "autovacuum_vacuum_cost_delay)"
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_outbox_log_tags_webhooks")]

    operations = [migrations.RunPython(tune, untune, elidable=False)]
