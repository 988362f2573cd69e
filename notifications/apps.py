from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the receivers that drop the cached webhook endpoints on a change."""
        from notifications import webhooks  # noqa: F401
