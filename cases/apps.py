from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The timeline kinds of cases; an offer still waiting when its case is resolved or
        closed expires with it."""
        from cases import handoff_sweep, hooks
        from cases.models import EventKind

        hooks.register_event_kinds(EventKind.choices)
        hooks.register(hooks.case_closed, handoff_sweep.handoff_on_case_closed)
