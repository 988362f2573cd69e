"""The owner's tasks in the API: listed with the queue (``queue/`` ``tasks``) and marked done
when the call is made (``POST tasks/{id}/done/``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import error_responses
from cases.models import CONTACT_SUMMARY_MAX, Channel
from cases.queue_api import OwnerTaskOut
from cases.task_services import owner_task_done, owner_task_get


class OwnerTaskDoneIn(serializers.Serializer):
    summary = serializers.CharField(
        max_length=CONTACT_SUMMARY_MAX, help_text="What the customer was told (the contact)."
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)
    at = serializers.DateTimeField(required=False, help_text="When (default: now).")


class OwnerTaskDoneApi(APIView):
    @extend_schema(
        operation_id="tasks_done",
        request=OwnerTaskDoneIn,
        responses={
            200: OpenApiResponse(OwnerTaskOut, description="Done: the call is on the timeline."),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = owner_task_get(user=request.user, task_id=task_id)
        data = OwnerTaskDoneIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        done = owner_task_done(
            task=task, by=request.user, summary=v["summary"], channel=v["channel"], at=v.get("at")
        )
        return Response(OwnerTaskOut(done).data)
