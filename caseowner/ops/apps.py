from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "caseowner.ops"
    label = "ops"

    def ready(self) -> None:
        """Connect the Celery signal receivers that count tasks and time the sweeps, and the
        client address bound on every request's log lines."""
        from caseowner.ops import client_address, signals

        signals.connect()
        client_address.connect()
