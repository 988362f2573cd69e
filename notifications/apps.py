from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from caseowner import scheduler

        if settings.OUTBOX_IN_PROCESS and scheduler.should_start():
            scheduler.start(settings.PERIODIC_TASKS)
