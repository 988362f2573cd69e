"""The team settings page (``/manage/settings/?team=<id>``): the form, and the history of
changes under it. The view reads the form, calls ``team_settings_update`` and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from caseowner.errors import RuleError
from cases.models import Team
from cases.pages import show_rule_error
from commitments.models import zone
from reports import selectors
from reports.errors import NotFoundError, ReportRuleError
from reports.forms import PeriodForm
from reports.selectors import TeamChoice
from reports.settings_forms import TeamSettingsForm
from reports.settings_selectors import team_settings_history
from reports.settings_services import (
    CALENDAR_KEYS,
    team_settings_snapshot,
    team_settings_update,
)


def _team(request: HttpRequest) -> TeamChoice:
    """The team asked for; an agent gets 403, another team's manager 404 (as the dashboard)."""
    query = PeriodForm(request.GET)
    team_id = query.cleaned_data.get("team") if query.is_valid() else None
    try:
        return selectors.team_for_manager(user=request.user, team_id=team_id)
    except NotFoundError:
        raise Http404("No such team.") from None
    except ReportRuleError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        raise Http404(exc.message) from None


def _page(request: HttpRequest, choice: TeamChoice, form: TeamSettingsForm, status: int = 200):
    team: Team = choice.team
    context: dict[str, Any] = {
        "team": team,
        "teams": choice.teams,
        "form": form,
        "history": team_settings_history(team=team),
        "dashboard_url": f"{reverse('reports-dashboard')}?team={team.pk}",
        "tz_name": team.time_zone,
    }
    with timezone.override(zone(team.time_zone)):
        return render(request, "reports/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest) -> HttpResponse:
    choice = _team(request)
    team = choice.team
    if request.method == "GET":
        initial = TeamSettingsForm.initial_from(team_settings_snapshot(team))
        return _page(request, choice, TeamSettingsForm(initial=initial))
    form = TeamSettingsForm(request.POST)
    if form.is_valid():
        try:
            change = team_settings_update(team=team, by=request.user, changes=form.changes())
        except RuleError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            show_rule_error(request, exc, form)
        else:
            if change is None:
                messages.info(request, gettext("Nothing changed."))
            elif set(change.after) & set(CALENDAR_KEYS):
                messages.success(
                    request,
                    gettext("Settings saved; queued reminders of open promises were moved."),
                )
            else:
                messages.success(request, gettext("Settings saved."))

            return redirect(f"{reverse('reports-settings')}?team={team.pk}")
    return _page(request, choice, form, status=400)
