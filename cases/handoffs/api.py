"""The hand-off API: thin views over ``cases.handoffs.services`` and
``cases.handoffs.selectors``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner import text
from caseowner.api import IdField, Pagination, error_responses, paginated
from caseowner.idempotency import idempotent
from cases.api import PersonOut
from cases.handoffs import outcomes as handoff_outcomes
from cases.handoffs import selectors, services
from cases.handoffs.gate import HandoffRubric, HandoffSummary
from cases.models import HandoffReason
from cases.selectors import case_get


class HandoffOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.ref")
    from_agent = PersonOut()
    to_agent = PersonOut()
    offered_by = PersonOut()
    to_team = serializers.IntegerField(source="to_team_id", allow_null=True)
    status = serializers.CharField(help_text="offered, accepted, declined, cancelled, expired")
    reason = serializers.CharField(help_text=", ".join(HandoffReason.values))
    customer_needs = serializers.CharField()
    actions_taken = serializers.CharField()
    customer_expectations = serializers.CharField()
    next_step = serializers.CharField()
    briefed_commitments = serializers.ListField(
        child=serializers.DictField(),
        help_text='Open commitments at offer time: {"id", "description", "due_at", "briefed", '
        '"customers"}; "customers" is false for the owner\'s own follow-ups.',
    )
    decline_reason = serializers.CharField()
    offered_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    customer_acknowledged_at = serializers.DateTimeField(allow_null=True)
    remind_at = serializers.DateTimeField(allow_null=True)
    escalate_at = serializers.DateTimeField(allow_null=True)
    quality_score = serializers.IntegerField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


def SummaryField() -> serializers.CharField:  # noqa: N802 - reads like a field class
    """One field of the hand-off summary (the gate says what is missing)."""
    return serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=text.SUMMARY_MAX,
        validators=[text.multi_line],
    )


class CaseHandoffsApi(APIView):
    class OfferIn(serializers.Serializer):
        to_agent = IdField(help_text="The receiver's user id.")
        to_team = IdField(
            required=False,
            allow_null=True,
            help_text="A manager's reassignment across teams: the team that takes the case.",
        )
        reason = serializers.ChoiceField(choices=HandoffReason.choices)
        customer_needs = SummaryField()
        actions_taken = SummaryField()
        customer_expectations = SummaryField()
        next_step = SummaryField()
        briefed_commitments = serializers.ListField(child=IdField(), required=False, default=list)

    @extend_schema(
        operation_id="cases_handoffs_list",
        responses={
            200: paginated(HandoffOut, name="PaginatedHandoffList"),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, ref: str) -> Response:
        case = case_get(user=request.user, ref=ref)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.handoff_list_for_case(case=case), request, view=self
        )
        return paginator.get_paginated_response(HandoffOut(page, many=True).data)

    @extend_schema(
        operation_id="cases_handoffs_create",
        request=OfferIn,
        responses={201: HandoffOut, **error_responses(400, 401, 403, 404, 409)},
        description=(
            "Offer the case to another agent with the context summary. Error codes: "
            "handoff_summary_incomplete (per-field messages), handoff_summary_copied (the "
            "previous hand-off's summary word for word), handoff_to_self, "
            "handoff_receiver_inactive, handoff_receiver_not_in_team, handoff_team_required, "
            "handoff_already_open, handoff_not_allowed, case_not_open."
        ),
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        data = self.OfferIn(data=request.data)
        if not data.is_valid():
            case_get(user=request.user, ref=ref)  # another team's case: 404 before any 400
            raise ValidationError(data.errors)
        v = data.validated_data
        # the service reads the case for the user under its lock (404 for another team's)
        handoff = services.handoff_offer(
            case=ref,
            by=request.user,
            to=selectors.handoff_receiver_by_id(v["to_agent"]),
            to_team=selectors.handoff_team_by_id(v.get("to_team")),
            reason=v["reason"],
            summary=HandoffSummary.of(v),
            briefed_commitments=v["briefed_commitments"],
        )
        # the service's hand-off holds its case and people: no second read
        return Response(HandoffOut(handoff).data, status=status.HTTP_201_CREATED)


class HandoffAcceptApi(APIView):
    @extend_schema(
        operation_id="handoffs_accept",
        request=None,
        responses={200: HandoffOut, **error_responses(401, 403, 404, 409)},
        description="The receiver accepts: the case, its commitments and the timeline move "
        "to them at once and the customer gets an introduction. Error codes: "
        "handoff_not_receiver, handoff_not_open, case_not_open.",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        handoff = services.handoff_accept(handoff=handoff, by=request.user)
        return Response(HandoffOut(handoff).data)


class HandoffDeclineApi(APIView):
    class DeclineIn(serializers.Serializer):
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=text.REASON_MAX,
            validators=[text.multi_line],
        )

    @extend_schema(
        operation_id="handoffs_decline",
        request=DeclineIn,
        responses={200: HandoffOut, **error_responses(400, 401, 403, 404, 409)},
        description="The receiver declines with a reason; the owner keeps the case and is "
        "told. Error codes: decline_reason_required, handoff_not_receiver, handoff_not_open.",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        data = self.DeclineIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.handoff_decline(
            handoff=handoff, by=request.user, reason=data.validated_data["reason"]
        )
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        return Response(HandoffOut(handoff).data)


class HandoffCancelApi(APIView):
    @extend_schema(
        operation_id="handoffs_cancel",
        request=None,
        responses={200: HandoffOut, **error_responses(401, 403, 404, 409)},
        description="Whoever offered, the owner or a manager withdraws the offer. Error "
        "codes: handoff_not_offerer, handoff_not_open.",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        services.handoff_cancel(handoff=handoff, by=request.user)
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        return Response(HandoffOut(handoff).data)


class HandoffReviewApi(APIView):
    class ReviewIn(serializers.Serializer):
        context_complete = serializers.IntegerField(help_text="1–5")
        next_step_clear = serializers.IntegerField(help_text="1–5")
        commitments_carried = serializers.IntegerField(help_text="1–5")
        customer_informed = serializers.IntegerField(help_text="1–5")
        comment = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=text.REASON_MAX,
            validators=[text.multi_line],
        )

    class ReviewOut(serializers.Serializer):
        id = serializers.IntegerField()
        handoff = serializers.IntegerField(source="handoff_id")
        reviewer = PersonOut()
        context_complete = serializers.IntegerField()
        next_step_clear = serializers.IntegerField()
        commitments_carried = serializers.IntegerField()
        customer_informed = serializers.IntegerField()
        comment = serializers.CharField()
        reviewed_at = serializers.DateTimeField()
        quality_score = serializers.IntegerField(source="handoff.quality_score", allow_null=True)

    @extend_schema(
        operation_id="handoffs_review",
        request=ReviewIn,
        responses={201: ReviewOut, **error_responses(400, 401, 403, 404, 409)},
        description="A manager of the team scores a decided hand-off, once. Error codes: "
        "invalid_review_scores, handoff_review_not_manager, handoff_not_decided, "
        "handoff_already_reviewed.",
    )
    @idempotent
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        data = self.ReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        review = handoff_outcomes.handoff_review(
            handoff=handoff,
            by=request.user,
            rubric=HandoffRubric.of(v),
            comment=v["comment"],
        )
        return Response(self.ReviewOut(review).data, status=status.HTTP_201_CREATED)


__all__ = [
    "CaseHandoffsApi",
    "HandoffAcceptApi",
    "HandoffCancelApi",
    "HandoffDeclineApi",
    "HandoffOut",
    "HandoffReviewApi",
]
