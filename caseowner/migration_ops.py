"""Migration operations the apps share.

``AddIndexConcurrentlyOnPostgres`` builds an index without blocking writes on PostgreSQL
(``CREATE INDEX CONCURRENTLY``: the migration must say ``atomic = False``) and as a plain
``CREATE INDEX`` elsewhere (SQLite in development and the fast tests). Its state is the one of
``AddIndex``, so ``makemigrations`` sees no difference; ``RemoveIndexConcurrentlyOnPostgres``
likewise drops one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


class _ConcurrentlyOnPostgres:
    """PostgreSQL: the concurrent operation (the next class in the MRO); elsewhere the plain
    one (``plain``), which has the same state."""

    plain: Any

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(  # type: ignore[misc]
                app_label, schema_editor, from_state, to_state
            )
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(  # type: ignore[misc]
                app_label, schema_editor, from_state, to_state
            )
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, AddIndexConcurrently):
    plain = AddIndex


class RemoveIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, RemoveIndexConcurrently):
    plain = RemoveIndex
