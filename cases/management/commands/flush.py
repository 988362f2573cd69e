"""Django's ``flush``, able to empty the append-only timeline on SQLite as TRUNCATE can on
PostgreSQL: the SQLite trigger lets a DELETE of ``cases_caseevent`` through only while the
transaction holds the ``flush`` row of ``cases_caseevent_unlock`` (migration 0022). The test
runner flushes between transactional tests through this command too."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

UNLOCK_TABLE = "cases_caseevent_unlock"


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        if (
            connection.vendor != "sqlite"
            or UNLOCK_TABLE not in connection.introspection.table_names()
        ):
            super().handle(**options)
            return
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {UNLOCK_TABLE} (purpose) VALUES ('flush')")
            try:
                super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute(f"DELETE FROM {UNLOCK_TABLE} WHERE purpose = 'flush'")
