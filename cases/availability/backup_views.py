"""The manager's "Backups and on duty" page (``/manage/teams/<id>/cover/``): who covers each
agent of the team while they are away, and the team's on-duty agent. Thin over ``backups``
(the API's service)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from caseowner import parsing
from cases.availability.backups import TeamCover, team_cover_get, team_cover_update
from cases.errors import CaseRuleError
from cases.models import Team
from cases.pages import agent_time_zone, render_in
from cases.permissions import is_team_manager

_MAX_ID = 2**31 - 1


def _id(value: str | None) -> int | None:
    return parsing.id_or_none(value or "", max_value=_MAX_ID)


def _team(request: HttpRequest, team_id: int) -> Team:
    """A team the reader manages; anybody else does not see it (404)."""
    team = Team.objects.select_related("on_duty__agent_profile").filter(pk=team_id).first()
    if team is None or not is_team_manager(request.user, team):
        raise Http404("No such team among yours.")
    return team


def _chosen(cover: TeamCover, post: Any | None) -> tuple[int | None, dict[int, int | None]]:
    if post is None:
        return (
            cover.on_duty.pk if cover.on_duty is not None else None,
            {
                row.agent.pk: (row.backup.pk if row.backup is not None else None)
                for row in cover.agents
            },
        )
    return _id(post.get("on_duty")), {
        row.agent.pk: _id(post.get(f"backup-{row.agent.pk}")) for row in cover.agents
    }


@login_required
@require_http_methods(["GET", "POST"])
def team_cover_page(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team(request, team_id)
    by: Any = request.user
    cover = team_cover_get(team=team, by=by)
    post = request.POST if request.method == "POST" else None
    on_duty, backups = _chosen(cover, post)
    errors: dict[str, list[str]] = {}
    status = 200
    if post is not None:
        try:
            team_cover_update(team=team, by=by, on_duty=on_duty, backups=backups)
        except CaseRuleError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            messages.error(request, gettext(exc.message))
            errors, status = exc.fields, 400
        else:
            messages.success(request, gettext("Backups and on-duty agent saved."))

            return redirect(reverse("team-cover", args=[team.pk]))
    context = {
        "team": team,
        "rows": [
            {"agent": row.agent, "name": row.name, "backup": backups.get(row.agent.pk)}
            for row in cover.agents
        ],
        "candidates": cover.candidates,
        "on_duty": on_duty,
        "errors": errors,
    }
    return render_in(
        request, "cases/team_cover.html", context, tz_name=agent_time_zone(by), status=status
    )
