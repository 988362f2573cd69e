"""The reports API: a team's summary and its agents, as JSON or CSV; the same selectors as
the dashboard, so the page and the API cannot drift apart."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import CsvRenderer, JSONRenderer, error_responses
from caseowner.db_router import replica_reads
from caseowner.parsing import DateApiField
from cases.models import Channel
from reports import selectors
from reports.absences import TeamAbsences, team_absences
from reports.first_response import first_response_attainment
from reports.selectors import AGENT_COLUMNS, DEFAULT_WEEKS, MAX_WEEKS, Window

ERRORS = (
    "Errors: `invalid_period`, `invalid_input` (400); `manager_only` (403, the caller manages "
    "no team); `not_found` (404, a team the caller does not manage)."
)
PARAMETERS = [
    OpenApiParameter(
        "weeks",
        OpenApiTypes.INT,
        description=f"Whole weeks (Monday to Sunday, UTC), 1–{MAX_WEEKS}; default {DEFAULT_WEEKS}.",
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="A day in the last week (default: today)."
    ),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
]


class _Params(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=MAX_WEEKS, default=DEFAULT_WEEKS)
    to = DateApiField(required=False)
    sort = serializers.ChoiceField(
        choices=[*AGENT_COLUMNS, *(f"-{c}" for c in AGENT_COLUMNS)], default="name"
    )


def _read(request: Request, team_id: int) -> tuple[Any, Window, dict]:
    params = _Params(
        data={k: v for k, v in request.query_params.items() if k in ("weeks", "to", "sort")}
    )
    params.is_valid(raise_exception=True)
    data = params.validated_data
    choice = selectors.team_for_manager(user=request.user, team_id=team_id)
    window = Window.ending(data.get("to") or timezone.now().date(), data["weeks"])
    return choice.team, window, data


def _flat(prefix: str, figures: dict) -> dict:
    return {f"{prefix}{k}": v for k, v in figures.items()}


class SummaryCsvRenderer(CsvRenderer):
    """One row per week, then one for the period; promise and hand-off columns side by side."""

    table_key = "weeks"

    def rows(self, data: dict) -> list[list[Any]]:
        lines = [
            {
                "week": w["week"],
                **_flat("promises_", w["promises"]),
                **_flat("handoffs_", w["handoffs"]),
            }
            for w in data["weeks"]
        ]
        lines.append(
            {
                "week": "period",
                **_flat("promises_", data["promises"]),
                **_flat("handoffs_", data["handoffs"]),
            }
        )
        columns = list(lines[0])
        return [columns, *([line.get(c) for c in columns] for line in lines)]


class AgentsCsvRenderer(CsvRenderer):
    table_key = "agents"

    def rows(self, data: dict) -> list[list[Any]]:
        return [list(AGENT_COLUMNS), *([a[c] for c in AGENT_COLUMNS] for a in data["agents"])]


def _figures_serializer(name: str, fields: dict) -> Any:
    return inline_serializer(name=name, fields=fields)


_INT = serializers.IntegerField


def _float(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or None)


PromiseFiguresOut = _figures_serializer(
    "ReportPromiseFigures",
    {
        **{name: _INT() for name in selectors.PROMISE_COUNTS},
        "decided": _INT(help_text="kept + renegotiated + missed"),
        "kept_on_time_rate": _float("kept on time / decided"),
        "proactive_rate": _float("renegotiated before due / decided"),
        "missed_rate": _float("missed / decided"),
    },
)
_HANDOFF_FIELDS = {
    "offered": _INT(),
    "accepted": _INT(),
    "declined": _INT(),
    "waiting": _INT(),
    "flagged": _INT(help_text="Ping-pong and other audit flags."),
    "score_avg": _float("Automatic summary score, 0–100."),
    "reviews": _INT(),
    "review_avg": _float("Managers' rubric average, 1–5."),
    "accept_median_seconds": _float(),
    "accept_p90_seconds": _float(),
}
HandoffFiguresOut = _figures_serializer("ReportHandoffFigures", _HANDOFF_FIELDS)
HandoffWeekOut = _figures_serializer(
    "ReportHandoffWeek",
    {
        **_HANDOFF_FIELDS,
        "cases": _INT(help_text="Cases handed over in the week."),
        "per_case": _float("Hand-offs per case."),
    },
)
SummaryOut = inline_serializer(
    name="TeamSummary",
    fields={
        "team": inline_serializer(
            name="ReportTeam", fields={"id": _INT(), "name": serializers.CharField()}
        ),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "weeks": inline_serializer(
            name="ReportWeek",
            fields={
                "week": serializers.DateField(help_text="The Monday the week starts."),
                "promises": PromiseFiguresOut,
                "handoffs": HandoffWeekOut,
            },
            many=True,
        ),
        "promises": PromiseFiguresOut,
        "handoffs": HandoffFiguresOut,
        "first_response": inline_serializer(
            name="ReportFirstResponse",
            fields={
                "channel": serializers.CharField(),
                "target_seconds": _INT(),
                "attainment": _float(),
                **{name: _INT() for name in selectors.PROMISE_COUNTS},
                "decided": _INT(),
                "kept_on_time_rate": _float(),
                "proactive_rate": _float(),
                "missed_rate": _float(),
            },
            many=True,
        ),
        "first_response_attainment": inline_serializer(
            name="ReportFirstResponseAttainment",
            help_text=(
                "First response measured from the contacts, per channel, for the cases "
                "opened in the period (`reports.first_response`): from the case's opening "
                "(or the customer's first contact, if earlier) to the first contact to the "
                "customer. Live channels (target under the team's live threshold) are a "
                "service level (`measure: service_level`), never a customer promise."
            ),
            fields={
                "time": serializers.ChoiceField(
                    choices=["clock", "business"],
                    help_text="Live channels measured in clock time, or the team's business "
                    "time (the team's choice); each channel's own `time` says how it is counted.",
                ),
                "goal": serializers.FloatField(
                    help_text="The share of cases to answer within target (0.8 for 80 %)."
                ),
                "channels": inline_serializer(
                    name="ReportChannelAttainment",
                    fields={
                        "channel": serializers.ChoiceField(choices=Channel.choices),
                        "measure": serializers.ChoiceField(
                            choices=["service_level", "promise"],
                            help_text="`service_level`: a live channel, measured and never "
                            "promised; `promise`: the customer was promised a reply by the "
                            "target, kept by the first reply.",
                        ),
                        "time": serializers.ChoiceField(
                            choices=["clock", "business"],
                            help_text="`business` on every promise channel: the team's "
                            "working time, the clock the first-response promise falls due by, "
                            "so this rate and the promises' kept-on-time rate agree; a live "
                            "channel in clock time unless the team chooses business time.",
                        ),
                        "target_seconds": _INT(),
                        "cases": _INT(help_text="Cases opened in the period."),
                        "answered": _INT(),
                        "answered_within_target": _INT(),
                        "unanswered": _INT(help_text="No contact to the customer yet."),
                        "waiting": _INT(
                            help_text="Unanswered and still inside the target: not counted "
                            "in the rate yet."
                        ),
                        "rate": _float("answered within target / (cases − waiting)"),
                        "goal": serializers.FloatField(),
                        "goal_met": serializers.BooleanField(allow_null=True),
                        "median_seconds": _float("Time to first response, answered cases."),
                        "p90_seconds": _float("90th percentile, answered cases."),
                    },
                    many=True,
                ),
            },
        ),
        "today": inline_serializer(
            name="ReportToday",
            fields={
                "at": serializers.DateTimeField(),
                "horizon": serializers.DateTimeField(
                    help_text="One business day from now on the team's calendar."
                ),
                "open_cases": _INT(),
                "without_promise": _INT(),
                "overdue": _INT(),
                "due_next_business_day": _INT(),
                "offers_waiting": _INT(),
                "away": inline_serializer(
                    name="ReportAway",
                    many=True,
                    fields={
                        "agent": _INT(),
                        "name": serializers.CharField(),
                        "switched": serializers.BooleanField(
                            help_text='The "away now" switch: no known return.'
                        ),
                        "starts_at": serializers.DateTimeField(allow_null=True),
                        "ends_at": serializers.DateTimeField(allow_null=True),
                        "away_now": serializers.BooleanField(),
                        "cover": serializers.IntegerField(
                            allow_null=True,
                            help_text="Who covers (backup, else on duty); null: nobody present.",
                        ),
                        "cover_name": serializers.CharField(),
                        "promises_due": _INT(help_text="Open promises due while away."),
                        "uncovered": _INT(help_text="Of those, on cases with no offer made."),
                    },
                    help_text="Agents away now or leaving within two business days.",
                ),
            },
        ),
    },
)
AgentsOut = inline_serializer(
    name="TeamAgents",
    fields={
        "team": inline_serializer(
            name="ReportAgentsTeam", fields={"id": _INT(), "name": serializers.CharField()}
        ),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "agents": inline_serializer(
            name="ReportAgent",
            fields={
                "agent_id": _INT(),
                "name": serializers.CharField(),
                "open_cases": _INT(),
                **{name: _INT() for name in selectors.PROMISE_COUNTS},
                "decided": _INT(),
                "kept_on_time_rate": _float(),
                "proactive_rate": _float(),
                "missed_rate": _float(),
                "handoffs_sent": _INT(),
                "handoffs_sent_score_avg": _float(),
                "handoffs_received": _INT(),
                "handoffs_received_score_avg": _float(),
                "offers_waiting": _INT(),
            },
            many=True,
        ),
    },
)


def _attachment(response: Response, request: Request, name: str) -> Response:
    if getattr(request.accepted_renderer, "format", "") == "csv":
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _away(away: TeamAbsences) -> list[dict[str, Any]]:
    def at(value: Any) -> str | None:
        return None if value is None else serializers.DateTimeField().to_representation(value)

    return [
        {
            "agent": row.agent_id,
            "name": row.name,
            "switched": row.switched,
            "starts_at": at(row.starts_at),
            "ends_at": at(row.ends_at),
            "away_now": row.away_now,
            "cover": row.cover_id,
            "cover_name": row.cover_name,
            "promises_due": row.promises_due,
            "uncovered": row.uncovered,
        }
        for row in away.rows
    ]


@method_decorator(replica_reads, name="dispatch")
class TeamSummaryApi(APIView):
    renderer_classes = [JSONRenderer, SummaryCsvRenderer]

    @extend_schema(
        operation_id="report_team_summary",
        summary="A team's promises, hand-offs and first replies by week, and today's figures",
        description=(
            "For the team's managers. Promises that ended in each week (kept on time, "
            "renegotiated before due, missed, as rates over those that came due, with their "
            "counts); hand-offs offered in each week (time to accept: median and 90th "
            "percentile, interpolated like PostgreSQL's `percentile_cont`; scores, reviews, "
            "flags, declined); first-response promises per channel (`first_response`) and the "
            "first response measured from the contacts per channel against the targets and "
            "the team's goal (`first_response_attainment`); and now: "
            "open cases without a promise, promises due in the next business day, offers "
            "waiting, agents away or leaving soon with their cover. `?format=csv`: one row "
            "per week and one for the period. " + ERRORS
        ),
        parameters=PARAMETERS,
        responses={
            (200, "application/json"): SummaryOut,
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(400, 401, 403, 404),
        },
        tags=["reports"],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team, window, _ = _read(request, team_id)
        now = timezone.now()
        summary = selectors.team_summary(team=team, window=window, now=now)
        attainment = first_response_attainment(team=team, window=window, now=now)
        body = {
            **selectors.team_summary_as_dict(summary),
            "first_response_attainment": attainment.as_dict(),
        }
        body["today"]["away"] = _away(team_absences(team=team, now=now))
        response = Response(body)
        return _attachment(response, request, f"team{team.pk}-summary-{window.start:%Y%m%d}")


@method_decorator(replica_reads, name="dispatch")
class TeamAgentsApi(APIView):
    renderer_classes = [JSONRenderer, AgentsCsvRenderer]

    @extend_schema(
        operation_id="report_team_agents",
        summary="A team's agents side by side",
        description=(
            "For the team's managers. Per agent: open cases and offers left waiting (now); "
            "promises kept, renegotiated and missed (credited to the owner when they ended); "
            "hand-offs sent and received with their average automatic score. `sort` is any "
            "column, `-` first for descending. " + ERRORS
        ),
        parameters=[
            *PARAMETERS,
            OpenApiParameter(
                "sort", OpenApiTypes.STR, description="A column, e.g. `-missed`; default `name`."
            ),
        ],
        responses={
            (200, "application/json"): AgentsOut,
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(400, 401, 403, 404),
        },
        tags=["reports"],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team, window, data = _read(request, team_id)
        agents = selectors.sort_agents(
            selectors.team_agents(team=team, window=window), data["sort"]
        )
        body = {
            "team": {"id": team.pk, "name": team.name},
            "from": window.start.isoformat(),
            "to": window.last_day.isoformat(),
            "agents": [a.as_dict() for a in agents],
        }
        return _attachment(Response(body), request, f"team{team.pk}-agents-{window.start:%Y%m%d}")


# --- the commitments report: every team the reader sees ------------------------------------------
