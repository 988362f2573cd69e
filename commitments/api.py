"""The commitments API: thin views over services and selectors, nested in/out serializers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import Pagination, error_responses, paginated
from caseowner.idempotency import idempotent
from cases.selectors import case_get
from commitments import selectors, services
from commitments.models import PERSON_KINDS, CommitmentKind, CommitmentStatus
from commitments.scheduling import Due

# Error codes per endpoint, for the schema (the body is always {"code", "message", "fields"}).
STATE_ERRORS = "Errors: `not_case_owner` (403); `not_found` (404); `commitment_not_open` (409)."
CREATE_ERRORS = (
    "Errors: `due_required`, `invalid_within`, `due_in_past`, `due_too_far`, "
    "`calendar_has_no_hours`, `invalid_commitment`, `invalid_input` (400); "
    "`not_case_owner` (403); `not_found` (404); `case_not_open` (409)."
)


class OwnerOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CommitmentOut(serializers.Serializer):
    """A promise as integrators see it (``id, case, owner, description, kind, due_at, status,
    ended_at, end_reason, successor`` and a few derived fields)."""

    id = serializers.IntegerField()
    case = serializers.CharField(help_text="The case reference, e.g. CASE-000123.")
    owner = OwnerOut()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=CommitmentKind.choices)
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=CommitmentStatus.choices)
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField(allow_blank=True)
    successor = serializers.IntegerField(
        allow_null=True, help_text="The promise that replaced this one (renegotiated or missed)."
    )
    made_in_business_time = serializers.BooleanField()
    within = serializers.CharField(allow_blank=True, help_text="e.g. “2 business days”.")
    confirmed_on_track_at = serializers.DateTimeField(allow_null=True)
    made_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    at_risk = serializers.BooleanField()


def _out(commitment: Any) -> dict:
    return CommitmentOut(selectors.commitment_as_dict(commitment)).data


class DueIn(serializers.Serializer):
    due_at = serializers.DateTimeField(
        required=False, help_text="An instant (ISO 8601 with offset). Give this or `within`."
    )
    within = serializers.CharField(
        required=False,
        max_length=40,
        help_text="Business time on the team's calendar: “2 business days”, “4 business hours”.",
    )


def _due(data: dict) -> Due:
    return Due.parse(due_at=data.get("due_at"), within=data.get("within"))


def _commitment(request: Request, pk: int) -> Any:
    return selectors.commitment_get_for_user(user=request.user, pk=pk)


class CommitmentCreateIn(DueIn):
    description = serializers.CharField(
        max_length=500, help_text="The promise in the customer's words."
    )
    kind = serializers.ChoiceField(
        choices=PERSON_KINDS,
        default="other",
        help_text="A customer's promise; the owner's own follow-ups (`handoff_check`, "
        "`recovery`) and the first reply are made by the product itself.",
    )


class CommitmentRenegotiateIn(DueIn):
    reason = serializers.CharField(
        max_length=1000, help_text="Why, in words the customer will read."
    )


class CommitmentWithdrawIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, help_text="Why, in words the customer will read."
    )


class CommitmentListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=CommitmentStatus.choices, required=False)


class CaseCommitmentsApi(APIView):
    InputSerializer = CommitmentCreateIn

    @extend_schema(
        operation_id="case_commitments_list",
        summary="A case's promises, earliest due first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=CommitmentStatus.values),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        description="Errors: `invalid_input` (400, a status that is not one of the enum's); "
        "`not_found` (404, also for other teams' cases).",
        responses={
            200: paginated(CommitmentOut, name="PaginatedCommitmentList"),
            **error_responses(400, 401, 404),
        },
        tags=["commitments"],
    )
    def get(self, request: Request, ref: str) -> Response:
        case = case_get(user=request.user, ref=ref)
        filters = CommitmentListFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        commitments = selectors.commitment_list(case=case)
        if filters.validated_data.get("status"):
            commitments = commitments.filter(status=filters.validated_data["status"])
        paginator = Pagination()
        page = paginator.paginate_queryset(commitments, request, self)
        now = timezone.now()
        rows = [selectors.commitment_as_dict(c, now=now) for c in page or []]
        return paginator.get_paginated_response(CommitmentOut(rows, many=True).data)

    @extend_schema(
        operation_id="case_commitments_create",
        summary="Record a promise (due_at, or within business time)",
        description=CREATE_ERRORS,
        request=InputSerializer,
        responses={201: CommitmentOut, **error_responses(400, 401, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "Within business time",
                value={
                    "description": "Call you back with the engineer's visit date",
                    "kind": "callback",
                    "within": "2 business days",
                },
                request_only=True,
            )
        ],
        tags=["commitments"],
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            case_get(user=request.user, ref=ref)  # another team's case: 404 before any 400
            raise ValidationError(data.errors)
        # the service reads the case for the user under its lock (404 for another team's)
        commitment = services.commitment_create(
            case=ref,
            by=request.user,
            description=data.validated_data["description"],
            kind=data.validated_data["kind"],
            due=_due(data.validated_data),
        )
        return Response(_out(commitment), status=status.HTTP_201_CREATED)


class CommitmentKeepApi(APIView):
    @extend_schema(
        operation_id="commitment_keep",
        summary="Mark a promise kept (no later reminder goes out)",
        description=STATE_ERRORS,
        request=None,
        responses={200: CommitmentOut, **error_responses(401, 403, 404, 409)},
        tags=["commitments"],
    )
    def post(self, request: Request, pk: int) -> Response:
        # the service reads the promise for the user under its lock (404 for another team's)
        commitment = services.commitment_mark_kept(commitment=pk, by=request.user)
        return Response(_out(commitment))


class CommitmentRenegotiateApi(APIView):
    InputSerializer = CommitmentRenegotiateIn

    @extend_schema(
        operation_id="commitment_renegotiate",
        summary="Move a promise to a new date; the customer is told at once",
        description=(
            "Returns the successor promise; the old one is `renegotiated` and links to it. "
            "Errors: `due_required`, `invalid_within`, `due_in_past`, `due_too_far`, "
            "`same_due_time`, `reason_required`, `invalid_input` (400); `not_case_owner` (403); "
            "`not_found` (404); `commitment_not_open` (409)."
        ),
        request=InputSerializer,
        responses={201: CommitmentOut, **error_responses(400, 401, 403, 404, 409)},
        tags=["commitments"],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        commitment = _commitment(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        successor = services.commitment_renegotiate(
            commitment=commitment,
            by=request.user,
            due=_due(data.validated_data),
            reason=data.validated_data["reason"],
        )
        return Response(_out(successor), status=status.HTTP_201_CREATED)


class CommitmentWithdrawApi(APIView):
    InputSerializer = CommitmentWithdrawIn

    @extend_schema(
        operation_id="commitment_withdraw",
        summary="Withdraw a promise with a reason; the customer is told",
        description=f"Errors: `reason_required`, `invalid_input` (400); {STATE_ERRORS[8:]}",
        request=InputSerializer,
        responses={200: CommitmentOut, **error_responses(400, 401, 403, 404, 409)},
        tags=["commitments"],
    )
    def post(self, request: Request, pk: int) -> Response:
        commitment = _commitment(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commitment = services.commitment_withdraw(
            commitment=commitment, by=request.user, reason=data.validated_data["reason"]
        )
        return Response(_out(commitment))


class CommitmentConfirmOnTrackApi(APIView):
    @extend_schema(
        operation_id="commitment_confirm_on_track",
        summary="Confirm a promise is on track (no at-risk alert)",
        description=STATE_ERRORS,
        request=None,
        responses={200: CommitmentOut, **error_responses(401, 403, 404, 409)},
        tags=["commitments"],
    )
    def post(self, request: Request, pk: int) -> Response:
        commitment = services.commitment_confirm_on_track(
            commitment=_commitment(request, pk), by=request.user
        )
        return Response(_out(commitment))
