"""The case's team on every promise, filled from the case, and the reports' indexes on it.

Not atomic: on PostgreSQL the indexes are built with ``CREATE INDEX CONCURRENTLY`` so promises
are made and kept while they build. The fill is one ``UPDATE … FROM`` (2,000,000 rows at the
benchmark's scale 1); ``SET NOT NULL`` then scans the table once under a short lock.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery

from caseowner.migration_ops import AddIndexConcurrentlyOnPostgres


def fill_team(apps, schema_editor):
    Commitment = apps.get_model("commitments", "Commitment")
    Case = apps.get_model("cases", "Case")
    team = Case.objects.filter(pk=OuterRef("case_id")).values("team_id")[:1]
    Commitment.objects.filter(team__isnull=True).update(team_id=Subquery(team))


def analyze(apps, schema_editor):
    """The planner needs the new column's statistics before the reports use its index."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ANALYZE commitments_commitment")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0015_handoff_team"),
        ("commitments", "0002_owner_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="commitment",
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
            model_name="commitment",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.team",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="commitment",
            index=models.Index(
                condition=Q(("status", "open"), _negated=True),
                fields=["team", "ended_at"],
                name="commitment_team_ended",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="commitment",
            index=models.Index(
                condition=Q(("status", "open")),
                fields=["team", "due_at"],
                name="commitment_team_open",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
