from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The timeline kinds of cases; an offer still waiting when its case is resolved or
        closed expires with it."""
        from django.db.backends.signals import connection_created

        from cases import handoff_sweep, hooks
        from cases.models import EventKind
        from cases.search_text import register_sqlite_functions

        # Search's SQL functions on SQLite, its trigram threshold on PostgreSQL (connection
        # set-up, not business logic).
        connection_created.connect(register_sqlite_functions, dispatch_uid="cases.search")

        hooks.register_event_kinds(EventKind.choices)
        hooks.register(hooks.case_closed, handoff_sweep.handoff_on_case_closed)
