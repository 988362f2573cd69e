"""The manager's pages: the team dashboard, agents side by side, and the rows behind a figure.

Views read the query with forms, call ``reports.selectors`` and render; a figure's link is
built here from the same filters the rows page reads, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseowner.csv_export import csv_response
from caseowner.db_router import replica_reads
from cases.permissions import managed_team_ids
from commitments.models import zone
from reports import charts, selectors
from reports.absences import absence_lines
from reports.dashboard_cache import dashboard_panels
from reports.errors import NotFoundError, ReportRuleError
from reports.first_response import first_response_attainment
from reports.forms import CaseRowsForm, PeriodForm, PromiseRowsForm
from reports.satisfaction import satisfaction_panel
from reports.selectors import AGENT_COLUMNS, DEFAULT_WEEKS, TeamChoice, Window


def _render(request: HttpRequest, template: str, context: dict, period: Period) -> HttpResponse:
    """Render with times in the team's zone: the manager reads the team's day. A query the
    forms refused answers 400, the page shown with its defaults and the reasons."""
    tz_name = period.team.time_zone
    status = 400 if period.refused else 200
    with timezone.override(zone(tz_name)):
        return render(request, template, {**context, "tz_name": tz_name}, status=status)


def _refuse(request: HttpRequest, form: forms.Form) -> None:
    """Each refused field of the query as a page message (the page then answers 400)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ").capitalize()
        for error in errors:
            messages.error(request, f"{label}: {error}")


_PERIOD_FIELDS = ("team", "weeks", "to")
_WIDGETS: dict[str, dict[str, str]] = {}


@dataclass
class Period:
    form: PeriodForm
    choice: TeamChoice
    window: Window
    # The query had a field the forms refused: the page shows its defaults, and answers 400.
    refused: bool = False

    @property
    def team(self) -> Any:
        return self.choice.team

    @cached_property
    def widgets(self) -> dict[str, str]:
        """The form's three inputs as HTML, drawn once per language, teams and values: a
        select drawn by Django's widget templates runs two includes per option."""
        form = self.form
        key = repr(
            [translation.get_language(), self.choice.teams]
            + [(name, form[name].value(), form[name].errors) for name in _PERIOD_FIELDS]
        )
        drawn = _WIDGETS.get(key)
        if drawn is None:
            if len(_WIDGETS) > 500:
                _WIDGETS.clear()
            drawn = _WIDGETS[key] = {name: str(form[name]) for name in _PERIOD_FIELDS}
        return drawn

    def query(self, **extra: Any) -> str:
        params = {"team": self.team.pk, "weeks": self.window.weeks}
        if self.form.cleaned_data.get("to"):
            params["to"] = self.window.last_day.isoformat()
        return urlencode({**params, **extra})


def _period(request: HttpRequest) -> Period:
    """The team and weeks asked for; an agent gets 403, another team's manager 404."""
    form = PeriodForm({"weeks": DEFAULT_WEEKS, **request.GET.dict()})
    refused = not form.is_valid()
    if refused:
        _refuse(request, form)
        form = PeriodForm({})
        form.is_valid()
    data = form.cleaned_data
    try:
        choice = selectors.team_for_manager(user=request.user, team_id=data.get("team"))
        window = Window.ending(data.get("to") or timezone.now().date(), int(data["weeks"]))
    except NotFoundError:
        raise Http404("No such team.") from None
    except ReportRuleError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        raise Http404(exc.message) from None
    form.offer_teams(choice.teams)
    return Period(form=form, choice=choice, window=window, refused=refused)


def _audit(period: Period, start: date, end: date, *, path: str = "", **extra: Any) -> str:
    params = {
        "team": period.team.pk,
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        **extra,
    }
    return f"{path or reverse('handoff-audit')}?{urlencode(params)}"


def _audit_query(**params: Any) -> str:
    return f"{reverse('handoff-audit')}?{urlencode(params)}"


def _promises(period: Period, *, path: str = "", **params: Any) -> str:
    path = path or reverse("reports-promises")
    return f"{path}?{urlencode({'team': period.team.pk, **params})}"


def _week_range(start: date) -> dict[str, str]:
    return {"date_from": start.isoformat(), "date_to": (start + timedelta(days=6)).isoformat()}


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where logging in leads: managers to their dashboard, agents to their queue."""
    manager = request.user.is_superuser or managed_team_ids(request.user)
    return redirect("reports-dashboard" if manager else "queue")


@login_required
@replica_reads
def dashboard(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    summary, attainment, satisfaction, away = dashboard_panels(
        team=period.team, window=period.window, now=timezone.now()
    )
    weeks = [w.start for w in summary.weeks]
    labels = [dateformat.format(d, "d M") for d in weeks]
    whole = {
        "date_from": period.window.start.isoformat(),
        "date_to": period.window.last_day.isoformat(),
    }
    # each row's links: the two paths reversed once for the page
    rows_path, audit_path = reverse("reports-promises"), reverse("handoff-audit")
    promise_rows = []
    for w in summary.weeks:
        span = _week_range(w.start)
        p = w.promises
        promise_rows.append(
            {
                "week": w.start,
                "figures": p,
                "decided_url": _promises(period, path=rows_path, **span),
                "kept_url": _promises(period, path=rows_path, status="kept", on_time="on", **span),
                "reneg_url": _promises(
                    period, path=rows_path, status="renegotiated", on_time="on", **span
                ),
                "missed_url": _promises(period, path=rows_path, status="missed", **span),
            }
        )
    handoff_rows = []
    for w in summary.weeks:
        end = w.start + timedelta(days=6)
        handoff_rows.append(
            {
                "week": w.start,
                "figures": w.handoffs,
                "all_url": _audit(period, w.start, end, path=audit_path),
                "declined_url": _audit(period, w.start, end, path=audit_path, status="declined"),
                "flagged_url": _audit(period, w.start, end, path=audit_path, flagged="on"),
                "accepted_url": _audit(period, w.start, end, path=audit_path, status="accepted"),
            }
        )
    today = summary.today
    today_links = {
        "without_promise": (
            f"{reverse('reports-open-cases')}?"
            f"{urlencode({'team': period.team.pk, 'without_promise': 'on'})}"
        ),
        "overdue": _promises(period, open="on", overdue_at=today.now.isoformat()),
        "due_soon": _promises(
            period,
            open="on",
            not_overdue_at=today.now.isoformat(),
            due_before=today.horizon.isoformat(),
        ),
        "offers": _audit_query(team=period.team.pk, status="offered"),
    }
    context = {
        "period": period,
        "form": period.form,
        "summary": summary,
        "away": away,
        "away_lines": absence_lines(away, team_id=period.team.pk),
        "promise_rows": promise_rows,
        "handoff_rows": handoff_rows,
        "attainment": attainment,
        "today_links": today_links,
        "whole_promises": _promises(period, **whole),
        "whole_handoffs": _audit(period, period.window.start, period.window.last_day),
        "promise_chart": charts.bar_chart(
            chart_id="chart-promises",
            title=_(
                "Promises by week: kept on time, renegotiated before due, missed (share of "
                "promises that came due)"
            ),
            groups=labels,
            series=[
                (_("Kept on time"), [w.promises.kept_on_time_rate for w in summary.weeks]),
                (_("Renegotiated before due"), [w.promises.proactive_rate for w in summary.weeks]),
                (_("Missed"), [w.promises.missed_rate for w in summary.weeks]),
            ],
            label=charts.percent,
            top=1.0,
        ),
        "handoff_chart": charts.bar_chart(
            chart_id="chart-handoffs",
            title=_("Hand-offs by week: offered, declined, flagged"),
            groups=labels,
            series=[
                (_("Offered"), [w.handoffs.offered for w in summary.weeks]),
                (_("Declined"), [w.handoffs.declined for w in summary.weeks]),
                (_("Flagged"), [w.handoffs.flagged for w in summary.weeks]),
            ],
            label=charts.number,
        ),
        "accept_chart": charts.bar_chart(
            chart_id="chart-accept",
            title=_("Time to accept a hand-off by week: median and 90th percentile"),
            groups=labels,
            series=[
                (_("Median"), [w.handoffs.accept_median for w in summary.weeks]),
                (_("90th percentile"), [w.handoffs.accept_p90 for w in summary.weeks]),
            ],
            label=charts.minutes,
        ),
        "first_chart": charts.bar_chart(
            chart_id="chart-first",
            title=_("First response within target, by channel (measured from the contacts)"),
            groups=[_(c.label) for c in attainment.channels],
            series=[(_("Within target"), [c.rate for c in attainment.channels])],
            label=charts.percent,
            top=1.0,
        ),
    }
    context["satisfaction"] = satisfaction_panel(
        satisfaction=satisfaction, summary_weeks=summary.weeks
    )
    context["satisfaction_csv"] = (
        f"{reverse('api-report-team-satisfaction', args=[period.team.pk])}?"
        f"{urlencode({'format': 'csv', 'weeks': period.window.weeks, 'to': whole['date_to']})}"
    )
    return _render(request, "reports/dashboard.html", context, period)


AGENT_HEADINGS = [
    ("name", gettext_lazy("Agent")),
    ("open_cases", gettext_lazy("Open cases")),
    ("kept_on_time", gettext_lazy("Kept on time")),
    ("renegotiated_before_due", gettext_lazy("Renegotiated before due")),
    ("missed", gettext_lazy("Missed")),
    ("kept_on_time_rate", gettext_lazy("Kept-on-time rate")),
    ("handoffs_sent", gettext_lazy("Hand-offs sent")),
    ("handoffs_sent_score_avg", gettext_lazy("Sent: avg score")),
    ("handoffs_received", gettext_lazy("Hand-offs received")),
    ("handoffs_received_score_avg", gettext_lazy("Received: avg score")),
    ("offers_waiting", gettext_lazy("Offers left waiting")),
]


def team_agents_url(*, team_id: int) -> str:
    """The agents page of a team (the ``cases.hooks.team_agents_page`` handler)."""
    return f"{reverse('reports-agents')}?{urlencode({'team': team_id})}"


@login_required
@replica_reads
def agents(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    period = _period(request)
    sort = request.GET.get("sort", "name")
    rows = selectors.sort_agents(
        selectors.team_agents(team=period.team, window=period.window), sort
    )
    if request.GET.get("format") == "csv":
        table = [list(AGENT_COLUMNS)]
        table += [[a.as_dict()[c] for c in AGENT_COLUMNS] for a in rows]
        return csv_response(
            table,
            filename=f"agents-team{period.team.pk}-{period.window.start:%Y%m%d}-"
            f"{period.window.last_day:%Y%m%d}.csv",
        )
    whole = {
        "date_from": period.window.start.isoformat(),
        "date_to": period.window.last_day.isoformat(),
    }
    audit = reverse("handoff-audit")
    lines = []
    for a in rows:
        mine: dict[str, Any] = {"owner": a.agent_id, **whole}
        lines.append(
            {
                "a": a,
                "open_url": f"{reverse('reports-open-cases')}?"
                + urlencode({"team": period.team.pk, "owner": a.agent_id}),
                "kept_url": _promises(period, status="kept", on_time="on", **mine),
                "reneg_url": _promises(period, status="renegotiated", on_time="on", **mine),
                "missed_url": _promises(period, status="missed", **mine),
                "handoffs_url": f"{audit}?"
                + urlencode({"team": period.team.pk, "agent": a.agent_id, **whole}),
                "waiting_url": f"{audit}?"
                + urlencode({"team": period.team.pk, "agent": a.agent_id, "status": "offered"}),
            }
        )
    headings = [
        {
            "key": key,
            "label": label,
            "url": "?" + period.query(sort=f"-{key}" if sort == key else key),
            "sorted": "ascending" if sort == key else "descending" if sort == f"-{key}" else "",
        }
        for key, label in AGENT_HEADINGS
    ]
    context = {
        "period": period,
        "form": period.form,
        "lines": lines,
        "headings": headings,
        "csv_url": "?" + period.query(sort=sort, format="csv"),
    }
    return _render(request, "reports/agents.html", context, period)


@login_required
@replica_reads
def promises(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    form = PromiseRowsForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    if form.errors:
        _refuse(request, form)
        period.refused = True
    filters = selectors.PromiseRowFilters(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        status=data.get("status") or None,
        on_time=bool(data.get("on_time")),
        first_response=bool(data.get("first_response")),
        channel=data.get("channel") or None,
        owner_id=data.get("owner"),
        open=bool(data.get("open")),
        due_after=data.get("due_after"),
        due_before=data.get("due_before"),
        overdue_at=data.get("overdue_at"),
        not_overdue_at=data.get("not_overdue_at"),
    )
    rows = selectors.promise_rows(team=period.team, filters=filters)
    page_obj = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "period": period,
        "filters": filters,
        "page_obj": page_obj,
        "extra_query": "&" + query.urlencode(),
    }
    return _render(request, "reports/promises.html", context, period)


@login_required
@replica_reads
def first_response(request: HttpRequest) -> HttpResponse:
    """First response per channel measured from the contacts (``reports.first_response``)."""
    period = _period(request)
    attainment = first_response_attainment(
        team=period.team, window=period.window, now=timezone.now()
    )
    context = {"period": period, "form": period.form, "attainment": attainment}
    return _render(request, "reports/first_response.html", context, period)


@login_required
@replica_reads
def open_cases(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    form = CaseRowsForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    if form.errors:
        _refuse(request, form)
        period.refused = True
    rows = selectors.open_case_rows(
        team=period.team,
        owner_id=data.get("owner"),
        without_promise=bool(data.get("without_promise")),
    )
    page_obj = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "period": period,
        "without_promise": bool(data.get("without_promise")),
        "page_obj": page_obj,
        "extra_query": "&" + query.urlencode(),
    }
    return _render(request, "reports/open_cases.html", context, period)
