from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "commitments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Commitments"

    def ready(self) -> None:
        """Register the handlers ``cases`` calls inside its own transactions."""
        from cases import hooks
        from commitments import selectors, services

        for handlers, handler in (
            (hooks.case_opened, services.on_case_opened),
            (hooks.handoff_accepted, services.on_handoff_accepted),
            (hooks.case_closed, services.on_case_closed),
            (hooks.open_commitments, selectors.open_commitments_brief),
            (hooks.case_detail_extras, selectors.case_detail_commitments),
            (hooks.business_time_add, services.business_time_add_for_team),
            (hooks.queue_flags, selectors.queue_flags_of_open),
        ):
            if handler not in handlers:
                handlers.append(handler)
