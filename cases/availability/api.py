"""The agents' availability API: absences, the "away now" switch, leaving, and a manager's
"cover for". Thin views over ``services``, ``cover_for`` and ``hours``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import IdField, error_responses
from caseowner.errors import NotFoundError
from caseowner.idempotency import idempotent
from caseowner.parsing import DateTimeApiField
from cases.availability import cover_for as cover_services
from cases.availability import services as away_services
from cases.availability.hours import agent_available, agent_next_available
from cases.handoffs.gate import SUMMARY_FIELDS
from cases.models import Absence, format_ref, parse_ref


def _agent(agent_id: int, by: Any) -> Any:
    """An agent the caller may plan for (themselves, or one of the teams they manage)."""
    agent = (
        get_user_model()
        .objects.select_related("agent_profile")
        .filter(pk=agent_id, agent_profile__isnull=False)
        .first()
    )
    if agent is None or not away_services.may_plan_for(by, agent):
        raise NotFoundError("No such agent among yours.")
    return agent


class AbsenceOut(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    note = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)


class AbsencePlanOut(AbsenceOut):
    promises_due = serializers.ListField(
        child=serializers.DictField(),
        help_text='Promises due during it: {"case", "id", "description", "due_at"}; offer a '
        "hand-off for each case.",
    )
    uncovered_cases = serializers.ListField(child=serializers.CharField())
    managers_alerted = serializers.BooleanField()


class AgentAbsencesApi(APIView):
    class AbsenceIn(serializers.Serializer):
        starts_at = DateTimeApiField()
        ends_at = DateTimeApiField()
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    @extend_schema(
        operation_id="agents_absences_list",
        responses={200: AbsenceOut(many=True), **error_responses(401, 404)},
        description="The agent's absences not yet over, soonest first.",
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = _agent(agent_id, request.user)
        rows = Absence.objects.filter(agent=agent, ends_at__gt=timezone.now()).order_by(
            "starts_at", "id"
        )[:200]
        return Response(AbsenceOut(rows, many=True).data)

    @extend_schema(
        operation_id="agents_absences_create",
        request=AbsenceIn,
        responses={201: AbsencePlanOut, **error_responses(400, 401, 403, 404)},
        description="Record a planned absence (the agent or a manager of their team). Error "
        "codes: invalid_absence, not_agent_or_manager.",
    )
    @idempotent
    def post(self, request: Request, agent_id: int) -> Response:
        agent = _agent(agent_id, request.user)
        data = self.AbsenceIn(data=request.data)
        data.is_valid(raise_exception=True)
        plan = away_services.absence_record(agent=agent, by=request.user, **data.validated_data)
        body = dict(AbsenceOut(plan.absence).data)
        body["promises_due"] = [
            {
                "case": format_ref(p.case_id),
                "id": p.id,
                "description": p.description,
                "due_at": serializers.DateTimeField().to_representation(p.due_at),
            }
            for items in plan.promises_by_case.values()
            for p in items
        ]
        body["uncovered_cases"] = [format_ref(c) for c in plan.uncovered_case_ids]
        body["managers_alerted"] = plan.managers_alerted
        return Response(body, status=status.HTTP_201_CREATED)


class AbsenceEndApi(APIView):
    @extend_schema(
        operation_id="agents_absences_end",
        request=None,
        responses={200: AbsenceOut, **error_responses(401, 403, 404, 409)},
        description="End the absence now (one not begun is called off). Error code: absence_over.",
    )
    def post(self, request: Request, agent_id: int, absence_id: int) -> Response:
        agent = _agent(agent_id, request.user)
        absence = Absence.objects.filter(agent=agent, pk=absence_id).first()
        if absence is None:
            raise NotFoundError("No such absence.")
        return Response(
            AbsenceOut(away_services.absence_end(absence=absence, by=request.user)).data
        )


class AvailabilityOut(serializers.Serializer):
    available = serializers.BooleanField(help_text="Inside working hours and not away.")
    away_since = serializers.DateTimeField(allow_null=True, help_text='The "away now" switch.')
    away_note = serializers.CharField()
    next_available_at = serializers.DateTimeField(
        allow_null=True, help_text="None while switched away (no known return)."
    )
    absences = AbsenceOut(many=True)


def availability_payload(user: Any) -> dict:
    now = timezone.now()
    profile = user.agent_profile
    return {
        "available": agent_available(user, now),
        "away_since": profile.away_since,
        "away_note": profile.away_note,
        "next_available_at": agent_next_available(user, now),
        "absences": list(Absence.objects.filter(agent=user, ends_at__gt=now)[:50]),
    }


class MyAvailabilityApi(APIView):
    class AwayIn(serializers.Serializer):
        away = serializers.BooleanField()
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    @extend_schema(
        operation_id="agents_me_availability",
        responses={200: AvailabilityOut, **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            AvailabilityOut(availability_payload(_agent(request.user.pk or 0, request.user))).data
        )

    @extend_schema(
        operation_id="agents_me_availability_set_away",
        request=AwayIn,
        responses={200: AvailabilityOut, **error_responses(400, 401, 404)},
        description='The "away now" switch: cover starts at once and lasts until switched off.',
    )
    def post(self, request: Request) -> Response:
        me = _agent(request.user.pk or 0, request.user)
        data = self.AwayIn(data=request.data)
        data.is_valid(raise_exception=True)
        away_services.agent_set_away(agent=me, by=request.user, **data.validated_data)
        return Response(AvailabilityOut(availability_payload(me)).data)


class AgentDeactivateApi(APIView):
    @extend_schema(
        operation_id="agents_deactivate",
        request=None,
        responses={204: None, **error_responses(401, 403, 404, 409)},
        description="The agent leaves. Refused with 409 agent_owns_open_cases (fields.cases "
        "lists the references) while they own open cases; hand those off first.",
    )
    def post(self, request: Request, agent_id: int) -> Response:
        agent = _agent(agent_id, request.user)
        away_services.agent_deactivate(agent=agent, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CoverCaseIn(serializers.Serializer):
    case = serializers.CharField(help_text="The case reference.")
    to_agent = IdField(
        required=False, allow_null=True, default=None, help_text="None: spread by the rule."
    )
    customer_needs = serializers.CharField(required=False, allow_blank=True, default="")
    actions_taken = serializers.CharField(required=False, allow_blank=True, default="")
    customer_expectations = serializers.CharField(required=False, allow_blank=True, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, default="")
    briefed_commitments = serializers.ListField(child=IdField(), required=False, default=list)


class CoverSharedIn(serializers.Serializer):
    actions_taken = serializers.CharField(required=False, allow_blank=True, default="")
    customer_expectations = serializers.CharField(required=False, allow_blank=True, default="")


class CoverIn(serializers.Serializer):
    receivers = serializers.ListField(child=IdField(), required=False, default=list)
    shared = CoverSharedIn(required=False)
    cases = CoverCaseIn(many=True)


class CoverOfferOut(serializers.Serializer):
    handoff = serializers.IntegerField()
    case = serializers.CharField()
    to_agent = serializers.IntegerField()


class CoverForApi(APIView):
    @extend_schema(
        operation_id="agents_cover_for",
        request=CoverIn,
        responses={
            201: CoverOfferOut(many=True),
            **error_responses(400, 401, 403, 404, 409),
        },
        description="A manager offers every open case of the agent at once: each case a "
        "manager's reassignment with its own summary (shared parts for actions_taken and "
        "customer_expectations are joined before each case's own words; customer_needs and "
        "next_step are each case's own). Cases without to_agent are spread over receivers, "
        "fewest open cases first. All or nothing. Error codes: cover_invalid, "
        "cover_receiver_unavailable, handoff_summary_incomplete (fields keyed "
        '"CASE-000123.next_step"), not_team_manager.',
    )
    @idempotent
    def post(self, request: Request, agent_id: int) -> Response:
        agent = _agent(agent_id, request.user)
        data = CoverIn(data=request.data)
        data.is_valid(raise_exception=True)
        items = []
        for v in data.validated_data["cases"]:
            case_id = parse_ref(v["case"])
            if case_id is None:
                raise NotFoundError(f"No case {v['case']}.")
            items.append(
                cover_services.CoverCase(
                    case_id=case_id,
                    to_agent_id=v["to_agent"],
                    briefed_commitments=tuple(v["briefed_commitments"]),
                    **{name: v[name] for name in SUMMARY_FIELDS},
                )
            )
        handoffs = cover_services.cover_for(
            agent=agent,
            by=request.user,
            request=cover_services.CoverRequest(
                cases=items,
                receivers=data.validated_data["receivers"],
                shared=dict(data.validated_data.get("shared") or {}),
            ),
        )
        body = [{"handoff": h.pk, "case": h.case.ref, "to_agent": h.to_agent_id} for h in handoffs]
        return Response(body, status=status.HTTP_201_CREATED)
