"""The case's team on every hand-off, filled from the case, and the audit's index on it.

Not atomic: on PostgreSQL the index is built with ``CREATE INDEX CONCURRENTLY`` so offers and
acceptances go on while it builds. The fill is one ``UPDATE … FROM`` (about 300,000 rows at
the benchmark's scale 1); ``SET NOT NULL`` then scans the table once under a short lock.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from caseowner.migration_ops import AddIndexConcurrentlyOnPostgres


def fill_team(apps, schema_editor):
    Handoff = apps.get_model("cases", "Handoff")
    Case = apps.get_model("cases", "Case")
    team = Case.objects.filter(pk=OuterRef("case_id")).values("team_id")[:1]
    Handoff.objects.filter(team__isnull=True).update(team_id=Subquery(team))


def analyze(apps, schema_editor):
    """The planner needs the new column's statistics before the reports use its index."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_handoff")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0014_team_first_response_measure")]

    operations = [
        migrations.AddField(
            model_name="handoff",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.team",
            ),
        ),
        migrations.RunPython(fill_team, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="handoff",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.team",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="handoff",
            index=models.Index(fields=["team", "-offered_at", "-id"], name="handoff_team_offered"),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
