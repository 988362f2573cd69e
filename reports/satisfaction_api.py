"""GET reports/teams/{id}/satisfaction/: the answers to the question at close by week (beside
the kept-on-time rate and hand-offs offered) and by how the case was looked after, as JSON or
CSV; the dashboard's selectors (``reports.satisfaction``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import CsvRenderer, JSONRenderer, error_responses
from reports.api import ERRORS, PARAMETERS, _attachment, _read
from reports.satisfaction import CAUTION_BELOW, satisfaction_report

WEEK_COLUMNS = [
    "week",
    "answers",
    "mean",
    "low",
    "low_rate",
    "kept_on_time_rate",
    "handoffs_offered",
]
GROUP_COLUMNS = ["group", "label", "answers", "mean", "low", "low_rate", "caution"]


class SatisfactionCsvRenderer(CsvRenderer):
    """One row per week, then one for the period; then one row per group of the table."""

    table_key = "weeks"

    def rows(self, data: dict) -> list[list[Any]]:
        period = {"week": "period", **data["period"]}
        lines = [WEEK_COLUMNS, *([w.get(c) for c in WEEK_COLUMNS] for w in data["weeks"])]
        lines.append([period.get(c) for c in WEEK_COLUMNS])
        lines.append(GROUP_COLUMNS)
        lines.extend([g[c] for c in GROUP_COLUMNS] for g in data["groups"])
        return lines


_SCORES: dict[str, Any] = {
    "answers": serializers.IntegerField(),
    "mean": serializers.FloatField(allow_null=True, help_text="Mean score, 1–5."),
    "low": serializers.IntegerField(help_text="Answers scored 1 or 2."),
    "low_rate": serializers.FloatField(allow_null=True),
}
SatisfactionOut = inline_serializer(
    name="SatisfactionReport",
    fields={
        "team": inline_serializer(
            name="SatisfactionTeam",
            fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
        ),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "weeks": inline_serializer(
            name="SatisfactionWeek",
            many=True,
            fields={
                "week": serializers.DateField(),
                **_SCORES,
                "kept_on_time_rate": serializers.FloatField(allow_null=True),
                "handoffs_offered": serializers.IntegerField(),
            },
        ),
        "period": inline_serializer(name="SatisfactionPeriod", fields=_SCORES),
        "groups": inline_serializer(
            name="SatisfactionGroup",
            many=True,
            fields={
                "group": serializers.CharField(),
                "label": serializers.CharField(),
                **_SCORES,
                "caution": serializers.BooleanField(
                    help_text=f"Fewer than {CAUTION_BELOW} answers: not to be leaned on."
                ),
            },
        ),
    },
)


class TeamSatisfactionApi(APIView):
    renderer_classes = [JSONRenderer, SatisfactionCsvRenderer]

    @extend_schema(
        operation_id="report_team_satisfaction",
        summary="A team's answers to the question at close, by week and by how cases went",
        description=(
            "For the team's managers. Answers given in each week (count, mean score 1–5, "
            "scores of 1–2) beside the week's kept-on-time rate and hand-offs offered; and the "
            "period's answers split by whether the case changed hands and by how its promises "
            "ended (all kept, one renegotiated: slipped with notice, one missed: slipped "
            f"without notice, none made), with `caution` on a group of fewer than "
            f"{CAUTION_BELOW} answers. `?format=csv`: the weeks, the period, then the groups. "
            + ERRORS
        ),
        parameters=[p for p in PARAMETERS if isinstance(p, OpenApiParameter)],
        responses={
            (200, "application/json"): SatisfactionOut,
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(400, 401, 403, 404),
        },
        tags=["reports"],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team, window, _ = _read(request, team_id)
        body = satisfaction_report(team=team, window=window)
        return _attachment(
            Response(body), request, f"team{team.pk}-satisfaction-{window.start:%Y%m%d}"
        )
