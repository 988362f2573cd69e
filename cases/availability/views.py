"""The agent's availability page: the "away now" switch, planned absences and the cases they
cover for colleagues who are away. Thin over ``services`` and ``hours``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from caseowner import parsing
from caseowner.errors import RuleError
from cases.availability import services as away_services
from cases.availability.hours import agent_available, agent_next_available, cover_duties
from cases.models import Absence, StaffLanguage
from cases.pages import agent_time_zone, render_in, show_rule_error


class AbsenceForm(forms.Form):
    starts_at = parsing.DateTimeFormField(
        label=gettext_lazy("Starts at"),
        widget=parsing.LocaleDateTimeInput(),
    )
    ends_at = parsing.DateTimeFormField(
        label=gettext_lazy("Ends at"),
        widget=parsing.LocaleDateTimeInput(),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of my pages"),
        choices=StaffLanguage.choices,
        required=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_availability(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    tz_name = agent_time_zone(user)
    form = AbsenceForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action in ("away", "back"):
                away_services.agent_set_away(
                    agent=user, by=user, away=action == "away", note=request.POST.get("note", "")
                )
                return redirect("my-availability")
            if action == "language":
                away_services.agent_language_set(
                    agent=user, by=user, language=request.POST.get("language", "")
                )
                return redirect("my-availability")
            if action == "end":
                absence_id = parsing.parse_id(request.POST.get("absence", ""), field="absence")
                absence = Absence.objects.filter(agent=user, pk=absence_id).first()
                if absence is not None:
                    away_services.absence_end(absence=absence, by=user)
                return redirect("my-availability")
            form = _bound_in(request, tz_name)
            if form.is_valid():
                plan = away_services.absence_record(agent=user, by=user, **form.cleaned_data)
                count = sum(len(v) for v in plan.promises_by_case.values())
                messages.success(
                    request,
                    _(
                        "Absence recorded. %(count)s promise(s) fall due meanwhile: offer those "
                        "cases to a colleague from each case page."
                    )
                    % {"count": count},
                )
                return redirect("my-availability")
        except RuleError as exc:
            show_rule_error(request, exc)
    now = timezone.now()
    profile = getattr(user, "agent_profile", None)
    context = {
        "form": form,
        "language_form": LanguageForm(initial={"language": getattr(profile, "language", "")}),
        "available": agent_available(user, now),
        "profile": profile,
        "back_at": agent_next_available(user, now),
        "absences": list(Absence.objects.filter(agent=user, ends_at__gt=now)[:50]),
        "duties": cover_duties(user=user, at=now),
    }
    return render_in(request, "cases/my_availability.html", context, tz_name=tz_name)


def _bound_in(request: HttpRequest, tz_name: str) -> AbsenceForm:
    """The form reads the times typed in the agent's own zone."""
    timezone.activate(tz_name)
    try:
        form = AbsenceForm(request.POST)
        form.is_valid()
    finally:
        timezone.deactivate()
    return form


__all__ = ["my_availability"]
