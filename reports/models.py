"""What the managers' pages record: each change to a team's settings, who made it, and the
settings before and after (only the ones that changed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TeamSettingsChange(models.Model):
    """One save of the team settings page (or any caller of ``team_settings_update``)."""

    team = models.ForeignKey("cases.Team", on_delete=models.CASCADE, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    # {"reminder_leads": ["1 business day", "1 business hour"], …}: the changed settings only.
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        indexes = [
            # the settings page's history: a team's changes, newest first
            models.Index(fields=["team", "-changed_at", "-id"], name="settingschange_team_at"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} settings @ {self.changed_at:%Y-%m-%d %H:%M}"
