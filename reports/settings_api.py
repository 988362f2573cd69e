"""A team's settings over the API: ``GET`` and ``PATCH`` ``reports/teams/{id}/settings/``.

The same service as the settings page (``team_settings_update``): the same validation, the
same change record, reminders of open promises moved in the same transaction. A ``PATCH``
names only the settings it changes; bad input writes nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import error_responses
from caseowner.parsing import DateApiField
from cases.models import AssignmentRule, Channel, Team
from commitments.calendar_services import CalendarSettings
from commitments.models import CALLBACK_DAILY_CAP, CALLBACK_LEAD_MINUTES, CALLBACK_SLOT_MINUTES
from reports import selectors
from reports.settings_services import (
    MAX_FIRST_RESPONSE_SECONDS,
    MAX_FOLLOW_UP_AFTER_DAYS,
    MAX_HANDOFF_ACCEPT_MINUTES,
    TeamSettings,
    team_settings_snapshot,
    team_settings_update,
)

WEEKDAYS = [str(day) for day in range(7)]
ERRORS = (
    "Errors: `invalid_input` (400, the body's shape), `invalid_settings` (400, a rule: "
    "`fields` names each setting); `manager_only` (403, the caller manages no team); "
    "`not_found` (404, a team the caller does not manage)."
)


class ClosedDaySerializer(serializers.Serializer):
    day = DateApiField()
    name = serializers.CharField(allow_blank=True, max_length=120, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A ``PATCH`` is partial down to each closed day, where DRF then skips a missing
        # ``day``: a closed day is whole or refused.
        if "day" not in attrs:
            raise serializers.ValidationError({"day": ["This field is required."]})
        return attrs


class TeamSettingsSerializer(serializers.Serializer):
    """Every setting of the team; on ``PATCH`` each is optional and left out means unchanged."""

    weekly_hours = serializers.DictField(
        child=serializers.ListField(
            child=serializers.ListField(
                child=serializers.CharField(max_length=5), min_length=2, max_length=2
            ),
            max_length=8,
        ),
        help_text='Working intervals per weekday, Monday "0": {"0": [["09:00", "17:00"]]}.',
    )
    around_the_clock = serializers.BooleanField(help_text="Business time is plain elapsed time.")
    holiday_country = serializers.CharField(
        allow_blank=True, max_length=8, help_text="ISO country code, e.g. GB; empty: none."
    )
    holiday_subdivision = serializers.CharField(
        allow_blank=True, max_length=16, help_text="e.g. ENG; empty: the whole country."
    )
    closed_days = ClosedDaySerializer(many=True, help_text="Replaces the list when given.")
    reminder_leads = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=10,
        help_text='e.g. ["1 business day", "1 business hour"]; the last is the at-risk moment.',
    )
    first_response_seconds = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_FIRST_RESPONSE_SECONDS),
        help_text="Per channel; replaces the team's targets (a channel left out uses the "
        "benchmark).",
    )
    handoff_accept_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_HANDOFF_ACCEPT_MINUTES
    )
    callback_slot_minutes = serializers.IntegerField(
        min_value=CALLBACK_SLOT_MINUTES[0],
        max_value=CALLBACK_SLOT_MINUTES[1],
        help_text="Customers book a call back in slots this long.",
    )
    callback_lead_minutes = serializers.IntegerField(
        min_value=CALLBACK_LEAD_MINUTES[0],
        max_value=CALLBACK_LEAD_MINUTES[1],
        help_text="The first slot starts at least this many business minutes ahead.",
    )
    callback_daily_cap = serializers.IntegerField(
        min_value=CALLBACK_DAILY_CAP[0],
        max_value=CALLBACK_DAILY_CAP[1],
        help_text="Callbacks an agent may have booked per day.",
    )
    assignment_rule = serializers.ChoiceField(choices=AssignmentRule.choices)
    follow_up_after_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_FOLLOW_UP_AFTER_DAYS,
        help_text="A customer's email to a resolved case reopens it within this many days of "
        "its resolution; later it opens a linked follow-up case with the same owner.",
    )

    def validate_weekly_hours(self, value: dict[str, Any]) -> dict[str, Any]:
        wrong = sorted(set(value) - set(WEEKDAYS))
        if wrong:
            raise serializers.ValidationError(f'Weekdays are "0" (Monday) to "6": not {wrong}.')
        return value

    def validate_first_response_seconds(self, value: dict[str, int]) -> dict[str, int]:
        wrong = sorted(set(value) - set(Channel.values))
        if wrong:
            raise serializers.ValidationError(f"Channels are {', '.join(Channel.values)}.")
        return value


class TeamSettingsOut(TeamSettingsSerializer):
    team = serializers.IntegerField()


def _as_body(team: Any) -> dict[str, Any]:
    snapshot = team_settings_snapshot(team)
    snapshot["closed_days"] = [{"day": d, "name": n} for d, n in snapshot["closed_days"]]
    return {"team": team.pk, **snapshot}


def _changes(data: dict[str, Any]) -> TeamSettings:
    calendar_keys = (
        "weekly_hours",
        "around_the_clock",
        "holiday_country",
        "holiday_subdivision",
        "reminder_leads",
        "callback_slot_minutes",
        "callback_lead_minutes",
        "callback_daily_cap",
    )
    calendar = {key: data[key] for key in calendar_keys if key in data}
    if "closed_days" in data:
        calendar["closed_days"] = [(d["day"], d.get("name", "")) for d in data["closed_days"]]
    return TeamSettings(
        calendar=CalendarSettings(**calendar) if calendar else None,
        first_response_seconds=data.get("first_response_seconds"),
        handoff_accept_minutes=data.get("handoff_accept_minutes"),
        assignment_rule=data.get("assignment_rule"),
        follow_up_after_days=data.get("follow_up_after_days"),
    )


class TeamSettingsApi(APIView):
    @extend_schema(
        operation_id="report_team_settings",
        summary="A team's settings",
        description="For the team's managers: calendar, reminder lead times, first-response "
        "targets, hand-off wait and assignment rule. " + ERRORS,
        responses={200: TeamSettingsOut, **error_responses(401, 403, 404)},
        tags=["reports"],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = selectors.team_for_manager(user=request.user, team_id=team_id).team
        return Response(_as_body(team))

    @extend_schema(
        operation_id="report_team_settings_update",
        summary="Change a team's settings",
        description="For the team's managers. Only the settings given change; the change is "
        "recorded (who, when, before and after) and a new calendar or new lead times move the "
        "reminders already queued for the team's open promises, in the same transaction. "
        "Bad input changes nothing. " + ERRORS,
        request=TeamSettingsSerializer(partial=True),
        responses={200: TeamSettingsOut, **error_responses(400, 401, 403, 404)},
        tags=["reports"],
    )
    def patch(self, request: Request, team_id: int) -> Response:
        team = selectors.team_for_manager(user=request.user, team_id=team_id).team
        data = TeamSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        team_settings_update(team=team, by=request.user, changes=_changes(data.validated_data))
        return Response(_as_body(Team.objects.select_related("calendar").get(pk=team.pk)))
