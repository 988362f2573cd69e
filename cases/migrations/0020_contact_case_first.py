"""First-response figures look up a case's first contact each way: from an index that holds
it in order (``contact_case_first``), not by sorting the case's contacts each time. Built
concurrently on PostgreSQL."""

from django.db import migrations, models

from caseowner.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0019_dashboard_today_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("auto_submitted", False)),
                fields=["case", "direction", "at", "id"],
                name="contact_case_first",
            ),
        ),
    ]
