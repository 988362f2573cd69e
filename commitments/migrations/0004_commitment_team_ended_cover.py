"""The weekly promise figures from the index alone: ``commitment_team_ended`` gains the
columns they read (status, due time, kind, owner, case) as included columns. Built
concurrently on PostgreSQL before the old one is dropped: writes go on meanwhile."""

from django.db import migrations, models

from caseowner.migration_ops import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commitments", "0003_commitment_team"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("status", "open"), _negated=True),
                fields=["team", "ended_at"],
                include=["status", "due_at", "kind", "owner", "case"],
                name="commitment_team_ended_cover",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(
            model_name="commitment",
            name="commitment_team_ended",
        ),
    ]
