"""The admin changes calendars only through ``business_calendar_update`` and never changes a
promise: the same checks, normalisation and timeline as the pages and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey
from django.http import HttpRequest

from cases.models import Team
from cases.permissions import is_team_manager, managed_team_ids
from commitments.calendar_changes import business_calendar_update
from commitments.calendar_services import CalendarSettings
from commitments.errors import CommitmentRuleError
from commitments.models import BusinessCalendar, ClosedDay, Commitment


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """A manager edits their teams' calendars; the save, closed days included, is one call of
    ``business_calendar_update``. Deleting would bypass it, so it is not offered."""

    list_display = ["team", "around_the_clock", "holiday_country", "holiday_subdivision"]
    inlines = [ClosedDayInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["team"] if obj is not None else []

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = Team.objects.filter(pk__in=managed_team_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or is_team_manager(request.user, obj.team_id))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved in ``save_related``, through the service, together with the closed days."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        data = form.cleaned_data
        closed_days = [
            (row["day"], row.get("name", ""))
            for formset in formsets
            for row in formset.cleaned_data
            if row and row.get("day") and not row.get("DELETE")
        ]
        try:
            saved = business_calendar_update(
                team=form.instance.team,
                by=request.user,
                changes=CalendarSettings(
                    weekly_hours=data["weekly_hours"],
                    around_the_clock=data["around_the_clock"],
                    holiday_country=data["holiday_country"],
                    holiday_subdivision=data["holiday_subdivision"],
                    reminder_leads=data["reminder_leads"],
                    closed_days=closed_days,
                    callback_slot_minutes=data.get("callback_slot_minutes"),
                    callback_lead_minutes=data.get("callback_lead_minutes"),
                    callback_daily_cap=data.get("callback_daily_cap"),
                ),
            )
        except CommitmentRuleError as exc:
            raise PermissionDenied(exc.message) from exc
        form.instance.pk = saved.pk

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict]:
        # The closed days were replaced by the service, not saved by the formsets.
        return super().construct_change_message(request, form, [], add)


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    """Read-only: promises change only through the services (and so the timeline)."""

    list_display = ["pk", "case", "owner", "kind", "due_at", "status", "ended_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["case", "owner"]
    raw_id_fields = ["case", "owner", "made_by", "ended_by", "successor"]
    date_hierarchy = "due_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
