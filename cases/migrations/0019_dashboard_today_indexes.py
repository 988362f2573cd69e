"""The dashboard's "today" counts from their own partial indexes: a team's open cases
without a promise and its offers waiting (each a bitmap over every open case or every open
hand-off of the team before). Built concurrently on PostgreSQL: writes go on meanwhile."""

from django.db import migrations, models

from caseowner.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0018_owner_tasks"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("next_due_at__isnull", True), ("status__in", ["open", "waiting_on_customer"])
                ),
                fields=["team"],
                name="case_team_no_promise",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="handoff",
            index=models.Index(
                condition=models.Q(("status", "offered")),
                fields=["team", "offered_at"],
                name="handoff_team_waiting",
            ),
        ),
    ]
