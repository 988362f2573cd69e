"""The back office's team page: a team's settings change here through the same service as on
the settings page and in the API (``team_settings_update``), so a change is checked against
its limits and recorded as a ``TeamSettingsChange``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from caseowner.errors import RuleError
from cases.admin import refusal_on_form
from cases.models import Team
from reports.settings_services import TEAM_KEYS, TeamSettings, team_settings_update


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "assignment_rule", "handoff_accept_minutes"]
    filter_horizontal = ["managers"]
    readonly_fields = ["last_assigned"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        """The settings that changed (assignment rule, offer wait, first-response targets)
        go to ``team_settings_update`` while the form is checked, in the admin's
        transaction; its refusal (past a limit, not a manager of the team) is the form's
        errors, and nothing is written. The team's other fields are saved as they are."""
        base = super().get_form(request, obj, change=change, **kwargs)

        class ThroughServiceForm(base):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                changed = {k: data[k] for k in TEAM_KEYS if k in self.changed_data}
                if self.errors or obj is None or not changed:
                    return data
                try:
                    team_settings_update(team=obj, by=request.user, changes=TeamSettings(**changed))
                except RuleError as exc:
                    refusal_on_form(self, exc, {})
                return data

        return ThroughServiceForm
