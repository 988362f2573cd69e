from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation for ``make demo``; it drives every app through its services."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
