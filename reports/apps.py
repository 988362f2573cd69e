from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Reports"

    def ready(self) -> None:
        """Pages of cases link back to the team's agents page through a hook (cases never
        names a page of the reports); the hand-off audit page takes its days from the
        reports' one period."""
        from cases import hooks
        from reports.period import day_bounds
        from reports.views import team_agents_url

        hooks.register(hooks.team_agents_page, team_agents_url)
        hooks.register(hooks.report_days, day_bounds)
