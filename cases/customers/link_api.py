"""The customer's view of their case over JSON, behind the signed link (no login).

The same reads as the customer page (``customer_selectors.customer_view``): the owner and how to
reach them, open promises, owner changes; never internal notes. Throttled on the shared cache
with the ``customer_link`` scope, like the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from caseowner.api import error_responses
from caseowner.errors import NotFoundError
from cases.customers import selectors as customer_selectors
from cases.handoffs import outcomes as handoff_outcomes
from cases.models import Case


class ContactOut(serializers.Serializer):
    name = serializers.CharField()
    job_title = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    working_hours = serializers.CharField()


class PromiseOut(serializers.Serializer):
    description = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)


class PersonNameOut(serializers.Serializer):
    name = serializers.CharField()


class OwnerChangeOut(serializers.Serializer):
    at = serializers.DateTimeField()
    from_name = serializers.CharField()
    to = PersonNameOut(
        help_text="The new owner by name only: direct details are given for the current "
        "point of contact (`owner`) alone, never for a former owner."
    )
    acknowledged = serializers.BooleanField()


class PointOfContactOut(serializers.Serializer):
    contact = ContactOut(help_text="Who to reach now: the owner, or who covers while away.")
    covering = serializers.BooleanField(help_text="True while someone covers for the owner.")
    owner_back_at = serializers.DateTimeField(
        allow_null=True, help_text="When the owner is back, while covering (if known)."
    )


class CustomerCaseOut(serializers.Serializer):
    ref = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    customer_name = serializers.CharField(help_text="The name the customer asked to be called.")
    time_zone = serializers.CharField(help_text="The customer's time zone, for showing times.")
    owner = ContactOut()
    point_of_contact = PointOfContactOut()
    promises = PromiseOut(many=True)
    owner_changes = OwnerChangeOut(many=True, help_text="Newest first.")
    acknowledgement_pending = serializers.BooleanField(
        help_text="True while the customer has not acknowledged their newest owner."
    )


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def customer_payload(case: Case) -> dict:
    view = customer_selectors.customer_view(case=case)
    return {
        "ref": case.ref,
        "subject": case.subject,
        "status": case.status,
        "customer_name": case.customer.salutation_name,
        "time_zone": case.customer.time_zone,
        "owner": view.owner,
        "point_of_contact": {
            "contact": view.contact.contact,
            "covering": view.contact.covering,
            "owner_back_at": _utc(view.contact.owner_back_at),
        },
        "promises": [
            {"description": p.description, "due_at": _utc(p.due_at)} for p in view.promises
        ],
        "owner_changes": [
            {
                "at": _utc(ch.handoff.decided_at),
                "from_name": ch.from_name,
                "to": {"name": ch.to_name},
                "acknowledged": ch.acknowledged,
            }
            for ch in view.owner_changes
        ],
        "acknowledgement_pending": view.to_acknowledge is not None,
    }


def _case_for(token: str) -> Case:
    case = customer_selectors.customer_case_for_token(token)
    if case is None:
        # Bad signature, expired or revoked: all look the same from outside.
        raise NotFoundError("This link is not valid any more.")
    return case


class CustomerCaseApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "customer_link"

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Personal details behind a secret link: no shared cache keeps a copy.
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    @extend_schema(
        operation_id="customer_case_retrieve",
        auth=[],
        responses={200: CustomerCaseOut, **error_responses(404, 429)},
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(customer_payload(_case_for(token)))

    @extend_schema(
        operation_id="customer_case_acknowledge",
        auth=[],
        request=None,
        responses={200: CustomerCaseOut, **error_responses(404, 429)},
        description="The customer acknowledges their new owner (idempotent).",
    )
    def post(self, request: Request, token: str) -> Response:
        case = _case_for(token)
        handoff_outcomes.handoff_customer_acknowledge(case=case)
        return Response(customer_payload(_case_for(token)))
