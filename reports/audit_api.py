"""The reports API over any run of days: promises kept on time by team and agent
(``/reports/commitments/``) and the manager audit of hand-offs (``/reports/handoffs/``), as
JSON or CSV, on the dashboard's period (``reports.period.Window``) and figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from caseowner.api import CsvRenderer, IdField, JSONRenderer, Pagination, error_responses
from caseowner.csv_export import csv_response
from caseowner.db_router import replica_reads
from cases.handoffs import selectors as handoff_selectors
from cases.handoffs.api import HandoffOut
from cases.hooks import report_day_bounds
from cases.models import HandoffStatus
from reports.promises import REPORT_COLUMNS, commitment_report
from reports.selectors import Window


class ReportCsvRenderer(CsvRenderer):
    """``?format=csv``: one row per team and per agent."""

    table_key = "teams"

    def rows(self, data: dict) -> Iterator[list[Any]]:
        columns = ["scope", "from", "to", "team_id", "team", "agent_id", "agent_name"]
        columns += list(REPORT_COLUMNS)
        teams = {t["team_id"]: t["team"] for t in data["teams"]}
        yield columns
        for scope, rows in (("team", data["teams"]), ("agent", data["agents"])):
            for row in rows:
                line = {
                    "scope": scope,
                    "from": data["from"],
                    "to": data["to"],
                    "team": teams.get(row["team_id"], ""),
                    **row,
                }
                yield [line.get(c) for c in columns]


class FiguresOut(serializers.Serializer):
    ended = serializers.IntegerField()
    kept = serializers.IntegerField()
    kept_on_time = serializers.IntegerField()
    renegotiated = serializers.IntegerField()
    renegotiated_before_due = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    missed = serializers.IntegerField()
    kept_on_time_rate = serializers.FloatField(
        allow_null=True, help_text="kept on time / (kept + renegotiated + missed)"
    )
    proactive_rate = serializers.FloatField(
        allow_null=True, help_text="renegotiated before due / (kept + renegotiated + missed)"
    )
    missed_rate = serializers.FloatField(
        allow_null=True, help_text="missed / (kept + renegotiated + missed)"
    )


class TeamFiguresOut(FiguresOut):
    team_id = serializers.IntegerField()
    team = serializers.CharField()


class AgentFiguresOut(FiguresOut):
    team_id = serializers.IntegerField()
    agent_id = serializers.IntegerField()
    agent_name = serializers.CharField(allow_blank=True)


@method_decorator(replica_reads, name="dispatch")
class CommitmentReportApi(APIView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, ReportCsvRenderer]

    class ReportFilterSerializer(serializers.Serializer):
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        team = IdField(required=False)

    OutputSerializer = inline_serializer(
        name="CommitmentReport",
        fields={
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "teams": TeamFiguresOut(many=True),
            "agents": AgentFiguresOut(many=True),
        },
    )

    @extend_schema(
        operation_id="report_commitments",
        summary="Kept-on-time, proactive renegotiation and missed rates per team and agent",
        description=(
            "Promises that ended in the period (UTC days), credited to the owner at the "
            "moment they ended. Managers see every agent of their teams; agents see their "
            "teams' totals and their own row. `?format=csv` returns the same rows as CSV. "
            "Errors: `invalid_period`, `invalid_input` (400); `not_found` (404, a team "
            "the caller cannot see)."
        ),
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (default: 30 days ago)."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."
            ),
            OpenApiParameter("team", OpenApiTypes.INT, description="One team's figures."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): OutputSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(400, 401, 404),
        },
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        params = self.ReportFilterSerializer(
            data={
                k: v
                for k, v in {
                    "date_from": request.query_params.get("from"),
                    "date_to": request.query_params.get("to"),
                    "team": request.query_params.get("team"),
                }.items()
                if v not in (None, "")
            }
        )
        params.is_valid(raise_exception=True)
        window = Window.between(
            start=params.validated_data.get("date_from"),
            end=params.validated_data.get("date_to"),
            today=timezone.now().date(),
        )
        report = commitment_report(
            user=request.user,
            window=window,
            team_id=params.validated_data.get("team"),
        )
        response = Response(report)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            name = f"commitments-{window.start:%Y%m%d}-{window.last_day:%Y%m%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class AuditCSVRenderer(CsvRenderer):
    """Lets ``?format=csv`` through content negotiation; the view streams the body itself."""


@method_decorator(replica_reads, name="dispatch")
class HandoffReportApi(APIView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, AuditCSVRenderer]  # type: ignore[list-item]

    class FiltersIn(serializers.Serializer):
        team = IdField(required=False)
        agent = IdField(required=False, help_text="Sender or receiver (id).")
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False, help_text="Inclusive.")
        flagged = serializers.BooleanField(required=False, allow_null=True, default=None)
        score_below = serializers.IntegerField(required=False, min_value=0, max_value=101)
        status = serializers.CharField(
            required=False, help_text="offered, accepted, declined, cancelled, expired"
        )

        def validate_status(self, value: str) -> str:
            if value not in HandoffStatus.values:
                raise serializers.ValidationError("Unknown status.")
            return value

    class RowOut(HandoffOut):
        team = serializers.CharField(source="case.team.name")
        review_count = serializers.IntegerField()
        review_average = serializers.FloatField(source="review_avg", allow_null=True)

    @extend_schema(
        operation_id="reports_handoffs",
        parameters=[
            FiltersIn,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: inline_serializer(
                name="HandoffAudit",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "summary": serializers.DictField(),
                    "results": RowOut(many=True),
                },
            ),
            **error_responses(400, 401, 403),
        },
        description="The manager audit of hand-offs (the teams the caller manages); "
        "`?format=csv` returns every matching row as CSV.",
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        query = request.query_params.copy()
        query.pop("format", None)
        data = self.FiltersIn(data=query)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        filters = handoff_selectors.HandoffAuditFilters(
            team_id=v.get("team"),
            agent_id=v.get("agent"),
            offered_between=report_day_bounds(
                v.get("date_from"), v.get("date_to"), timezone.now().date()
            ),
            flagged=v.get("flagged"),
            score_below=v.get("score_below"),
            status=v.get("status"),
        )
        rows = handoff_selectors.handoff_audit_rows(user=request.user, filters=filters)
        if request.accepted_renderer.format == "csv":
            return csv_response(
                handoff_selectors.handoff_audit_csv_rows(rows.iterator(chunk_size=500)),
                filename="handoffs.csv",
            )
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(self.RowOut(page, many=True).data)
        response.data["summary"] = handoff_selectors.handoff_audit_summary(
            user=request.user, filters=filters
        )
        return response
