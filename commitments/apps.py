from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CommitmentsConfig(AppConfig):
    name = "commitments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Commitments"

    def ready(self) -> None:
        """Register the handlers ``cases`` calls inside its own transactions, the promises
        panel of the case page and the promise events of the timeline."""
        from cases import hooks
        from commitments import callback_cover, callback_views, handlers, selectors, views
        from commitments.models import PromiseEventKind

        hooks.register_event_kinds(PromiseEventKind.choices)
        hooks.register(hooks.case_opened, handlers.on_case_opened)
        hooks.register(hooks.handoff_accepted, handlers.on_handoff_accepted)
        hooks.register(hooks.case_closed, handlers.on_case_closed)
        hooks.register(hooks.contact_recorded, handlers.on_contact_recorded)
        hooks.register(hooks.open_commitments, selectors.open_commitments_brief)
        hooks.register(hooks.open_commitments_many, selectors.open_commitments_brief_many)
        hooks.register(hooks.customer_promises, selectors.customer_promises)
        hooks.register(hooks.case_detail_extras, selectors.case_detail_commitments)
        hooks.register(hooks.case_page_panels, views.commitment_panel)
        hooks.register(hooks.business_time_add, handlers.business_time_add_for_team)
        hooks.register(hooks.queue_flags, selectors.queue_flags_of_open)
        hooks.register(hooks.working_time, handlers.working_time_for_agent)
        hooks.register(hooks.availability_changed, handlers.on_availability_changed)
        hooks.register(hooks.availability_changed, callback_cover.on_availability_changed)
        hooks.register(hooks.case_page_panels, callback_views.callback_panel)
        hooks.register(hooks.customer_page_links, callback_views.customer_callback_link)
        hooks.register_event_kinds(
            [(callback_cover.CALLBACK_MOVED, gettext_lazy("Callback moved to the cover"))]
        )
        hooks.register(hooks.promises_due_between, handlers.promises_due_for_owner)
        hooks.register(hooks.live_stamp_parts, selectors.live_stamp_parts)
        hooks.register(hooks.customer_erased, handlers.on_customer_erased)
        hooks.register(hooks.promise_outcomes, handlers.promise_outcomes_of_case)
