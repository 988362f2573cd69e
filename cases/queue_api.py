"""The agent's queue API: their cases with flags, the offers waiting for them, the calls
they have to make and the away colleagues' cases they cover."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import Pagination, error_responses
from cases import payloads, queue_reads, selectors
from cases.api import CaseOut, PersonOut


class OfferWaitingOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.ref")
    subject = serializers.CharField(source="case.subject")
    from_agent = PersonOut()
    reason = serializers.CharField()
    offered_at = serializers.DateTimeField()


class QueueRowOut(CaseOut):
    # Serialises a ``selectors.QueueRow``: the case with its flags.
    overdue = serializers.BooleanField(read_only=True)
    at_risk = serializers.BooleanField(read_only=True)
    customer_replied = serializers.BooleanField(
        read_only=True, help_text="The customer wrote and nobody has answered them since."
    )
    notice_undelivered = serializers.BooleanField(
        read_only=True,
        help_text="An email to the customer could not be delivered (refused, or bounced): "
        "the owner has a task to call them, open until done.",
    )

    class Meta(CaseOut.Meta):
        fields = [
            *CaseOut.Meta.fields,
            "overdue",
            "at_risk",
            "customer_replied",
            "notice_undelivered",
        ]

    def to_representation(self, instance: Any) -> Any:
        # The flags are skipped on the case (it has none) and taken from the row.
        data = super().to_representation(instance.case)
        data["overdue"], data["at_risk"] = instance.overdue, instance.at_risk
        data["customer_replied"] = instance.customer_replied
        data["notice_undelivered"] = instance.notice_undelivered
        return data


class OwnerTaskOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.ref")
    text = serializers.CharField(help_text='"Call Mrs Campbell on …: …": what to do.')
    reason = serializers.CharField(help_text="Why the product could not do it itself.")
    source_template = serializers.CharField(help_text="The notice it stands for.")
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    done_by = PersonOut(allow_null=True)
    contact = serializers.IntegerField(
        source="contact_id", allow_null=True, help_text="The contact that did it."
    )


class CoveredCaseOut(serializers.Serializer):
    ref = serializers.CharField()
    subject = serializers.CharField()
    customer = serializers.CharField(help_text="The customer's full name.")
    status = serializers.CharField()
    next_due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    customer_replied = serializers.BooleanField(
        help_text="The customer wrote and nobody has answered them since."
    )


class CoveringOut(serializers.Serializer):
    owner = PersonOut(help_text="The away owner, who stays the owner.")
    count = serializers.IntegerField()
    cases = CoveredCaseOut(
        many=True, help_text="The owner's open cases, the next promise due first."
    )


class QueueApi(APIView):
    @extend_schema(
        operation_id="queue_retrieve",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={
            200: inline_serializer(
                name="Queue",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": QueueRowOut(many=True),
                    "offers_waiting": OfferWaitingOut(many=True),
                    "tasks": OwnerTaskOut(many=True),
                    "covering": CoveringOut(
                        many=True,
                        help_text="Away colleagues whose cases the caller covers now (as "
                        "their backup, or as the team's on-duty agent): the caller acts on "
                        "them for the owner. Empty when nobody they cover is away.",
                    ),
                },
            ),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> Response:
        # Rows of the shown columns and plain functions (``cases.payloads``): the same JSON as
        # ``QueueRowOut`` at a fraction of its cost.
        # The count, the page, the offers and the tasks are statements written once
        # (``cases.queue_reads``): each request binds the agent and the instant.
        paginator = Pagination()
        user, now = request.user, timezone.now()
        queue = queue_reads.QueueRows(user=user, at=now)
        page: list[dict[str, Any]] | None = paginator.paginate_queryset(
            queue,  # type: ignore[arg-type]  # sliced and counted like a queryset
            request,
            self,
        )
        rows = list(page or [])
        response = paginator.get_paginated_response(payloads.queue_payload(rows, now=now))
        response.data["offers_waiting"] = payloads.offer_rows_payload(
            queue_reads.OFFERS_WAITING.rows(user=user)
        )
        response.data["tasks"] = payloads.task_rows_payload(queue_reads.OPEN_TASKS.rows(user=user))
        response.data["covering"] = payloads.covering_payload(
            selectors.queue_covering(
                user=request.user, hint=rows[0]["covering_now"] if rows else None
            )
        )
        return response
