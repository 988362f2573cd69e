from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """An offer still waiting when its case is resolved or closed expires with it."""
        from cases import handoff_services, hooks

        if handoff_services.handoff_on_case_closed not in hooks.case_closed:
            hooks.case_closed.append(handoff_services.handoff_on_case_closed)
