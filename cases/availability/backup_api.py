"""A team's cover over the API: ``GET`` and ``PUT`` ``teams/{id}/cover/``, the on-duty agent
and every agent's backup. Thin over ``backups`` (the page's service)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import IdField, error_responses
from caseowner.errors import NotFoundError
from cases.api import PersonOut
from cases.availability.backups import TeamCover, team_cover_get, team_cover_update
from cases.models import Team
from cases.permissions import team_ids_visible
from cases.recipients import display_name

ERRORS = (
    "Errors: `invalid_input` (400, the body's shape), `invalid_cover` (400: `fields` names "
    "`on_duty` or `backups`); `not_team_manager` (403, a member of the team who does not "
    "manage it); `not_found` (404, a team the caller is not in)."
)


def _team(request: Request, team_id: int) -> Team:
    user = request.user
    visible = getattr(user, "is_superuser", False) or team_id in team_ids_visible(user)
    team = Team.objects.select_related("on_duty__agent_profile").filter(pk=team_id).first()
    if team is None or not visible:
        raise NotFoundError("No such team among yours.")
    return team


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": display_name(user)}


def _body(cover: TeamCover) -> dict[str, Any]:
    return {
        "team": cover.team.pk,
        "on_duty": _person(cover.on_duty),
        "agents": [
            {"agent": _person(row.agent), "backup": _person(row.backup)} for row in cover.agents
        ],
    }


class AgentCoverOut(serializers.Serializer):
    agent = PersonOut()
    backup = PersonOut(allow_null=True, help_text="Covers while the agent is away.")


class TeamCoverOut(serializers.Serializer):
    team = serializers.IntegerField()
    on_duty = PersonOut(
        allow_null=True, help_text="Covers an away agent whose backup is away too (or unset)."
    )
    agents = AgentCoverOut(many=True)


class BackupIn(serializers.Serializer):
    agent = IdField(help_text="An agent of the team.")
    backup = IdField(allow_null=True, help_text="An active agent of the team; null: none.")


class TeamCoverApi(APIView):
    class TeamCoverIn(serializers.Serializer):
        on_duty = IdField(allow_null=True, help_text="An active agent of the team; null: nobody.")
        backups = BackupIn(  # type: ignore[call-arg]  # the stubs lack ListSerializer's max_length
            many=True,
            required=False,
            default=list,
            max_length=500,
            help_text="Agents left out keep their backup.",
        )

    @extend_schema(
        operation_id="teams_cover_retrieve",
        responses={200: TeamCoverOut, **error_responses(401, 403, 404)},
        description="The team's on-duty agent and every agent's backup (team managers). " + ERRORS,
    )
    def get(self, request: Request, team_id: int) -> Response:
        return Response(_body(team_cover_get(team=_team(request, team_id), by=request.user)))

    @extend_schema(
        operation_id="teams_cover_update",
        request=TeamCoverIn,
        responses={200: TeamCoverOut, **error_responses(400, 401, 403, 404)},
        description="Set the on-duty agent and agents' backups in one change, all or nothing "
        "(team managers). " + ERRORS,
    )
    def put(self, request: Request, team_id: int) -> Response:
        team = _team(request, team_id)
        data = self.TeamCoverIn(data=request.data)
        data.is_valid(raise_exception=True)
        cover = team_cover_update(
            team=team,
            by=request.user,
            on_duty=data.validated_data["on_duty"],
            backups={row["agent"]: row["backup"] for row in data.validated_data["backups"]},
        )
        return Response(_body(cover))
