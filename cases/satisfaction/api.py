"""The question at close over JSON, behind its signed token (no login): read it, answer it.
The same services as the answer page; throttled with the customer link's scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from caseowner.api import error_responses
from cases.models import SATISFACTION_COMMENT_MAX, SatisfactionAnswer
from cases.recipients import display_name
from cases.satisfaction import services


class AnswerOut(serializers.Serializer):
    case_ref = serializers.CharField()
    owner_name = serializers.CharField(
        help_text='The owner the question names: "Did … take care of this for you?"'
    )
    score = serializers.IntegerField(allow_null=True, help_text="1–5; null until answered.")
    comment = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    revision = serializers.IntegerField(help_text="Send it back to change the answer.")
    changeable_until = serializers.DateTimeField(allow_null=True)
    closed = serializers.CharField(
        help_text='"" while it can be answered; `answer_final` or `question_closed`.'
    )


class AnswerIn(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=SATISFACTION_COMMENT_MAX
    )
    revision = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The revision you read."
    )


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def answer_payload(answer: SatisfactionAnswer) -> dict[str, Any]:
    first = answer.first_answered_at
    return {
        "case_ref": answer.case.ref,
        "owner_name": display_name(answer.final_owner),
        "score": answer.score,
        "comment": answer.comment,
        "answered_at": _utc(answer.answered_at),
        "revision": answer.revision,
        "changeable_until": _utc(first + services.ANSWER_CHANGE_WINDOW) if first else None,
        "closed": services.answer_closed_reason(answer, timezone.now()),
    }


class SatisfactionAnswerApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "customer_link"

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    @extend_schema(
        operation_id="satisfaction_answer_retrieve",
        auth=[],
        responses={200: AnswerOut, **error_responses(404, 429)},
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(answer_payload(services.satisfaction_answer_for_token(token)))

    @extend_schema(
        operation_id="satisfaction_answer_create",
        auth=[],
        request=AnswerIn,
        responses={200: AnswerOut, **error_responses(400, 404, 409, 410, 429)},
        description="Answer the question, or replace the answer within 7 days of the first. "
        "Errors: `invalid_score`, `invalid_input` (400); `answer_changed` (409: `revision` is "
        "not the latest); `answer_final` (410: more than 7 days after the first answer), "
        "`question_closed` (410: not answered within 30 days).",
    )
    def post(self, request: Request, token: str) -> Response:
        data = AnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.satisfaction_answer(
            token=token,
            score=data.validated_data["score"],
            comment=data.validated_data["comment"],
            revision=data.validated_data["revision"],
        )
        return Response(answer_payload(services.satisfaction_answer_for_token(token)))
