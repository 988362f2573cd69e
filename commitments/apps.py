from collections.abc import Callable
from typing import Any

from django.apps import AppConfig


def _register(handlers: list[Any], handler: Callable[..., Any]) -> None:
    if handler not in handlers:
        handlers.append(handler)


class CommitmentsConfig(AppConfig):
    name = "commitments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Commitments"

    def ready(self) -> None:
        """Register the handlers ``cases`` calls inside its own transactions."""
        from cases import hooks
        from commitments import selectors, services

        _register(hooks.case_opened, services.on_case_opened)
        _register(hooks.handoff_accepted, services.on_handoff_accepted)
        _register(hooks.case_closed, services.on_case_closed)
        _register(hooks.open_commitments, selectors.open_commitments_brief)
        _register(hooks.case_detail_extras, selectors.case_detail_commitments)
        _register(hooks.business_time_add, services.business_time_add_for_team)
        _register(hooks.queue_flags, selectors.queue_flags_of_open)
