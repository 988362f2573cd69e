from django.apps import AppConfig


class CaseownerConfig(AppConfig):
    """The project itself: what a serving process starts once every app is ready.

    The in-process scheduler runs every app's periodic jobs, so it belongs to the project
    rather than to one of the apps (``notifications`` knows nothing of the others' sweeps).
    """

    name = "caseowner"
    verbose_name = "caseowner"

    def ready(self) -> None:
        from django.conf import settings

        from caseowner import lean, scheduler
        from caseowner.auth import connect_token_cache

        assert lean.csrf_protection_installed  # registered with the system checks

        connect_token_cache()
        if settings.OUTBOX_IN_PROCESS and scheduler.should_start():
            scheduler.start(settings.PERIODIC_TASKS)
