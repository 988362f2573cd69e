from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "caseowner.ops"
    label = "ops"

    def ready(self) -> None:
        """Connect the Celery signal receivers that count tasks and time the sweeps."""
        from caseowner.ops import signals

        signals.connect()
