"""Callbacks over JSON: the customer's (behind the signed link, no login, throttled like the
customer page) and the staff's (a case they may see; booking asks the services who may
change it). Thin views over ``commitments.callbacks`` and ``commitments.callback_slots``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from caseowner.api import error_responses
from caseowner.errors import NotFoundError
from caseowner.idempotency import idempotent
from caseowner.types import User
from cases.customers.selectors import customer_case_for_token
from cases.models import Case
from cases.recipients import display_name
from cases.selectors import case_get
from commitments import callbacks
from commitments.calendar_services import business_calendar_of
from commitments.callback_slots import callback_slots
from commitments.models import CallbackBooking

BOOK_ERRORS = (
    "Errors: `invalid_input`, `invalid_slot` (400); `not_case_owner` (403, staff); "
    "`not_found` (404); `slot_unavailable` (409, not offered now), `slot_taken` (409, "
    "someone booked it first), `callback_booked` (409, move the one booked), `case_not_open` "
    "(409)."
)


class SlotOut(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    agent_name = serializers.CharField(help_text="Who calls: the owner, or their cover.")
    cover = serializers.BooleanField(help_text="True when the cover calls (the owner is away).")


class SlotsOut(serializers.Serializer):
    time_zone = serializers.CharField(help_text="The customer's time zone, for showing times.")
    slot_minutes = serializers.IntegerField()
    slots = SlotOut(many=True)


class CallbackOut(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    agent_name = serializers.CharField()
    description = serializers.CharField(help_text="The promise, in the customer's words.")


class CallbackStateOut(serializers.Serializer):
    callback = CallbackOut(allow_null=True, help_text="The booked callback; null when none.")


class SlotIn(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="The start of an offered slot.")


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Staff only: told the customer."
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slots_payload(case: Case) -> dict[str, Any]:
    """``SlotsOut`` as plain JSON values: two weeks of slots are a few hundred rows, too many
    for DRF's field machinery on a read the customer's page polls."""
    slots = callback_slots(case=case, now=timezone.now())
    return {
        "time_zone": case.customer.time_zone,
        "slot_minutes": business_calendar_of(case.team).callback_slot_minutes,
        "slots": [
            {
                "starts_at": _iso(s.starts_at),
                "ends_at": _iso(s.ends_at),
                "agent_name": s.agent_name,
                "cover": s.cover,
            }
            for s in slots
        ],
    }


def callback_payload(booking: CallbackBooking | None) -> dict[str, Any]:
    if booking is None:
        return {"callback": None}
    return {
        "callback": {
            "starts_at": booking.starts_at,
            "ends_at": booking.ends_at,
            "agent_name": display_name(booking.agent),
            "description": booking.commitment.description,
        }
    }


def _current(case: Case) -> dict[str, Any]:
    booking = callbacks.callback_of(case)
    return callback_payload(booking)


def _starts_at(request: Request) -> Any:
    data = SlotIn(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data["starts_at"]


class _Customer(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "customer_link"

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    @staticmethod
    def case_for(token: str) -> Case:
        case = customer_case_for_token(token)
        if case is None:
            raise NotFoundError("This link is not valid any more.")
        return case


class CustomerCallbackSlotsApi(_Customer):
    @extend_schema(
        operation_id="customer_callback_slots",
        summary="The slots the customer may book a callback in",
        auth=[],
        responses={200: SlotsOut, **error_responses(404, 429)},
        tags=["callbacks"],
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(slots_payload(self.case_for(token)))


class CustomerCallbacksApi(_Customer):
    @extend_schema(
        operation_id="customer_callback_retrieve",
        summary="The customer's booked callback",
        auth=[],
        responses={200: CallbackStateOut, **error_responses(404, 429)},
        tags=["callbacks"],
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(CallbackStateOut(_current(self.case_for(token))).data)

    @extend_schema(
        operation_id="customer_callback_book",
        summary="Book a callback in an offered slot",
        description=BOOK_ERRORS,
        auth=[],
        request=SlotIn,
        responses={201: CallbackStateOut, **error_responses(400, 404, 409, 429)},
        tags=["callbacks"],
    )
    @idempotent
    def post(self, request: Request, token: str) -> Response:
        case = self.case_for(token)
        booking = callbacks.callback_book(case=case, starts_at=_starts_at(request), by=None)
        return Response(
            CallbackStateOut(callback_payload(booking)).data, status=status.HTTP_201_CREATED
        )


class CustomerCallbackMoveApi(_Customer):
    @extend_schema(
        operation_id="customer_callback_move",
        summary="Move the booked callback to another offered slot",
        description=f"{BOOK_ERRORS} `no_callback` (404), `same_due_time` (400).",
        auth=[],
        request=SlotIn,
        responses={200: CallbackStateOut, **error_responses(400, 404, 409, 429)},
        tags=["callbacks"],
    )
    def post(self, request: Request, token: str) -> Response:
        case = self.case_for(token)
        booking = callbacks.callback_move(case=case, starts_at=_starts_at(request), by=None)
        return Response(CallbackStateOut(callback_payload(booking)).data)


class CustomerCallbackCancelApi(_Customer):
    @extend_schema(
        operation_id="customer_callback_cancel",
        summary="Cancel the booked callback",
        description="Errors: `not_found`, `no_callback` (404).",
        auth=[],
        request=None,
        responses={200: CallbackStateOut, **error_responses(404, 429)},
        tags=["callbacks"],
    )
    def post(self, request: Request, token: str) -> Response:
        callbacks.callback_cancel(case=self.case_for(token), by=None)
        return Response(CallbackStateOut({"callback": None}).data)


def _staff_case(request: Request, ref: str) -> Case:
    user: User = request.user
    return case_get(user=user, ref=ref)


class CaseCallbackSlotsApi(APIView):
    @extend_schema(
        operation_id="case_callback_slots",
        summary="The slots the owner may book a callback in for the customer",
        description="Errors: `not_found` (404, also for other teams' cases).",
        responses={200: SlotsOut, **error_responses(401, 404)},
        tags=["callbacks"],
    )
    def get(self, request: Request, ref: str) -> Response:
        return Response(slots_payload(_staff_case(request, ref)))


class CaseCallbacksApi(APIView):
    @extend_schema(
        operation_id="case_callback_retrieve",
        summary="The case's booked callback",
        responses={200: CallbackStateOut, **error_responses(401, 404)},
        tags=["callbacks"],
    )
    def get(self, request: Request, ref: str) -> Response:
        return Response(CallbackStateOut(_current(_staff_case(request, ref))).data)

    @extend_schema(
        operation_id="case_callback_book",
        summary="Book a callback for the customer (who has no email, say)",
        description=BOOK_ERRORS,
        request=SlotIn,
        responses={201: CallbackStateOut, **error_responses(400, 401, 403, 404, 409)},
        tags=["callbacks"],
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        case = _staff_case(request, ref)
        booking = callbacks.callback_book(case=case, starts_at=_starts_at(request), by=request.user)
        return Response(
            CallbackStateOut(callback_payload(booking)).data, status=status.HTTP_201_CREATED
        )


class CaseCallbackMoveApi(APIView):
    @extend_schema(
        operation_id="case_callback_move",
        summary="Move the booked callback (the customer is told by email when they have one)",
        description=f"{BOOK_ERRORS} `no_callback` (404), `same_due_time` (400).",
        request=SlotIn,
        responses={200: CallbackStateOut, **error_responses(400, 401, 403, 404, 409)},
        tags=["callbacks"],
    )
    def post(self, request: Request, ref: str) -> Response:
        case = _staff_case(request, ref)
        booking = callbacks.callback_move(case=case, starts_at=_starts_at(request), by=request.user)
        return Response(CallbackStateOut(callback_payload(booking)).data)


class CaseCallbackCancelApi(APIView):
    @extend_schema(
        operation_id="case_callback_cancel",
        summary="Cancel the booked callback (the promise is withdrawn)",
        description="Errors: `not_case_owner` (403); `not_found`, `no_callback` (404).",
        request=CancelIn,
        responses={200: CallbackStateOut, **error_responses(400, 401, 403, 404)},
        tags=["callbacks"],
    )
    def post(self, request: Request, ref: str) -> Response:
        case = _staff_case(request, ref)
        data = CancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        callbacks.callback_cancel(
            case=case, by=request.user, reason=data.validated_data.get("reason", "")
        )
        return Response(CallbackStateOut({"callback": None}).data)
