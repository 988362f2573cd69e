from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The timeline kinds of cases; an offer still waiting when its case is resolved or
        closed expires with it; customer notices name the point of contact at send time."""
        from django.db.backends.signals import connection_created

        from cases import events, hooks, notice_contact, undelivered
        from cases.customers.search_text import register_sqlite_functions
        from cases.handoffs import sweep as handoff_sweep
        from cases.models import EventKind
        from cases.satisfaction import services as satisfaction
        from notifications import hooks as notification_hooks
        from notifications.rendering import context_refresher_register
        from notifications.telemetry import log_context_key_register

        # Search's SQL functions on SQLite, its trigram threshold on PostgreSQL (connection
        # set-up, not business logic).
        connection_created.connect(register_sqlite_functions, dispatch_uid="cases.customers.search")

        hooks.register_event_kinds(EventKind.choices)
        hooks.register(hooks.case_closed, handoff_sweep.handoff_on_case_closed)
        # The customer is asked one question when their case closes; erasure takes the comment.
        hooks.register(hooks.case_closed, satisfaction.satisfaction_on_case_closed)
        hooks.register(hooks.customer_erased, satisfaction.satisfaction_on_customer_erased)
        # A customer notice that failed for good is a webhook event of its case.
        notification_hooks.delivery_failed.append(events.notice_delivery_failed)
        # ... and the owner's task: call the customer (once per notice).
        hooks.register(notification_hooks.delivery_failed, undelivered.notice_delivery_failed)
        # Customer notices name the point of contact when they are sent.
        context_refresher_register(
            notice_contact.POINT_OF_CONTACT_MARKER, notice_contact.point_of_contact_refresh
        )
        # A delivery's log lines name the case its message is about.
        log_context_key_register("case_ref")
