"""Webhook endpoints over the API, for the managers of a team (and admins): list, create (the
secret is shown once), rotate the secret with an overlap, pause, resume, delete, the recent
deliveries and a redelivery; and the catalogue of events (``cases.events``).

An endpoint belongs to one team (scope ``team:<id>``); one the caller may not manage is not
found. Thin views: the rules are in ``notifications.webhook_endpoints``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import Pagination, error_responses, paginated
from caseowner.errors import NotFoundError
from caseowner.idempotency import idempotent
from cases.errors import CaseRuleError
from cases.events import COMMON_FIELDS, EVENTS
from cases.models import Team
from cases.permissions import is_team_manager, managed_team_ids
from notifications.models import WebhookEndpoint
from notifications.webhook_endpoints import (
    ROTATION_OVERLAP_DEFAULT,
    Delivery,
    webhook_deliveries,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_set_active,
    webhook_redeliver,
    webhook_secret_rotate,
)

SCOPE_PREFIX = "team:"


def _team_of(endpoint: WebhookEndpoint) -> int | None:
    number = endpoint.scope.removeprefix(SCOPE_PREFIX)
    return int(number) if endpoint.scope.startswith(SCOPE_PREFIX) and number.isdigit() else None


def _require_some_team(user: Any) -> None:
    if not (getattr(user, "is_superuser", False) or managed_team_ids(user)):
        raise CaseRuleError(
            "not_manager", "Only a team's managers or an admin manage webhooks.", status=403
        )


def endpoints_visible(user: Any) -> Any:
    """The endpoints ``user`` may manage: every one for an admin, else their teams'."""
    endpoints = WebhookEndpoint.objects.order_by("id")
    if getattr(user, "is_superuser", False):
        return endpoints
    return endpoints.filter(scope__in=[f"{SCOPE_PREFIX}{t}" for t in managed_team_ids(user)])


def endpoint_get(user: Any, endpoint_id: int) -> WebhookEndpoint:
    _require_some_team(user)
    endpoint = endpoints_visible(user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFoundError(f"No webhook endpoint {endpoint_id}.")
    return endpoint


class EndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.SerializerMethodField()
    url = serializers.URLField()
    events = serializers.ListField(
        child=serializers.CharField(), help_text="Events sent; empty means every event."
    )
    description = serializers.CharField()
    paused = serializers.SerializerMethodField()
    previous_secret_until = serializers.DateTimeField(
        allow_null=True, help_text="Until then the secret before the last rotation signs too."
    )
    created_at = serializers.DateTimeField()

    def get_team(self, endpoint: WebhookEndpoint) -> int | None:
        return _team_of(endpoint)

    def get_paused(self, endpoint: WebhookEndpoint) -> bool:
        return not endpoint.is_active


class EndpointWithSecretOut(EndpointOut):
    secret = serializers.CharField(help_text="Shown this once: keep it to verify signatures.")


class EndpointIn(serializers.Serializer):
    team = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENTS)),
        required=False,
        default=list,
        max_length=len(EVENTS),
        help_text="Events to send; empty or absent: every event.",
    )
    description = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class RotateIn(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        default=int(ROTATION_OVERLAP_DEFAULT.total_seconds() // 3600),
        help_text="How long the old secret still signs beside the new one (0: not at all).",
    )


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The delivery id (X-Caseowner-Delivery).")
    event = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["pending", "sending", "sent", "failed", "cancelled", "no_route"]
    )
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(help_text="The last refusal (an HTTP status, a cause).")
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    archived = serializers.BooleanField(help_text="Only its outcome is kept: not redeliverable.")


def _delivery_of(notification: Any) -> Delivery:
    return Delivery(
        id=notification.pk,
        event=notification.template,
        status=notification.status,
        attempts=notification.attempts,
        last_error=notification.last_error,
        created_at=notification.created_at,
        next_attempt_at=notification.send_after,
        sent_at=notification.sent_at,
        finished_at=notification.finished_at,
        archived=False,
    )


class WebhookEndpointsApi(APIView):
    @extend_schema(
        operation_id="webhooks_endpoints_list",
        responses={
            200: paginated(EndpointOut, name="PaginatedWebhookEndpointList"),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        _require_some_team(request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(endpoints_visible(request.user), request, view=self)
        return paginator.get_paginated_response(EndpointOut(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_endpoints_create",
        request=EndpointIn,
        responses={
            201: OpenApiResponse(
                EndpointWithSecretOut, description="Created; its secret is shown this once."
            ),
            **error_responses(400, 401, 403),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = EndpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if not (
            Team.objects.filter(pk=v["team"]).exists() and is_team_manager(request.user, v["team"])
        ):
            raise CaseRuleError(
                "not_team_manager",
                "Only the team's managers or an admin add its webhook endpoints.",
                status=403,
                fields={"team": ["Not a team you manage."]},
            )
        endpoint, secret = webhook_endpoint_create(
            scope=f"{SCOPE_PREFIX}{v['team']}",
            url=v["url"],
            events=v["events"],
            description=v["description"],
        )
        return Response({**EndpointOut(endpoint).data, "secret": secret}, status=201)


class WebhookEndpointApi(APIView):
    @extend_schema(
        operation_id="webhooks_endpoints_retrieve",
        responses={200: EndpointOut, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(EndpointOut(endpoint_get(request.user, endpoint_id)).data)

    @extend_schema(
        operation_id="webhooks_endpoints_destroy",
        responses={
            204: OpenApiResponse(description="Deleted, with its deliveries still queued."),
            **error_responses(401, 403, 404),
        },
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        webhook_endpoint_delete(endpoint_id=endpoint_get(request.user, endpoint_id).pk)
        return Response(status=204)


class WebhookSecretRotateApi(APIView):
    @extend_schema(
        operation_id="webhooks_endpoints_rotate_secret",
        request=RotateIn,
        responses={
            200: OpenApiResponse(
                EndpointWithSecretOut,
                description="The new secret, shown this once; the old one signs beside it "
                "until previous_secret_until.",
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(request.user, endpoint_id)
        data = RotateIn(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_secret_rotate(
            endpoint_id=endpoint.pk,
            overlap=timedelta(hours=data.validated_data["overlap_hours"]),
        )
        return Response({**EndpointOut(endpoint).data, "secret": secret})


class _SetActiveApi(APIView):
    active = True

    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(request.user, endpoint_id)
        endpoint = webhook_endpoint_set_active(endpoint_id=endpoint.pk, active=self.active)
        return Response(EndpointOut(endpoint).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="webhooks_endpoints_pause",
        request=None,
        responses={
            200: OpenApiResponse(
                EndpointOut,
                description="Paused: no event is queued for it; queued ones fail (redeliverable).",
            ),
            **error_responses(401, 403, 404),
        },
    )
)
class WebhookPauseApi(_SetActiveApi):
    active = False


@extend_schema_view(
    post=extend_schema(
        operation_id="webhooks_endpoints_resume",
        request=None,
        responses={200: EndpointOut, **error_responses(401, 403, 404)},
    )
)
class WebhookResumeApi(_SetActiveApi):
    active = True


class WebhookDeliveriesApi(APIView):
    @extend_schema(
        operation_id="webhooks_endpoints_deliveries",
        responses={
            200: paginated(DeliveryOut, name="PaginatedWebhookDeliveryList"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(request.user, endpoint_id)
        paginator = Pagination()
        deliveries: Any = webhook_deliveries(endpoint=endpoint)  # a list pages as a queryset
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliveryOut(page, many=True).data)


class WebhookRedeliverApi(APIView):
    @extend_schema(
        operation_id="webhooks_endpoints_redeliver",
        request=None,
        responses={
            202: OpenApiResponse(
                DeliveryOut,
                description="Queued: a failed delivery again (same id), a sent one as a new "
                "delivery of the same event.",
            ),
            **error_responses(401, 403, 404, 409),
        },
    )
    def post(self, request: Request, endpoint_id: int, delivery_id: int) -> Response:
        endpoint = endpoint_get(request.user, endpoint_id)
        notification = webhook_redeliver(endpoint=endpoint, delivery_id=delivery_id)
        return Response(DeliveryOut(_delivery_of(notification)).data, status=202)


class WebhookEventsApi(APIView):
    @extend_schema(
        operation_id="webhooks_events_list",
        responses={
            200: inline_serializer(
                name="WebhookEventCatalogue",
                fields={
                    "events": serializers.ListField(child=serializers.DictField()),
                    "common_fields": serializers.DictField(),
                },
            ),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        _require_some_team(request.user)
        return Response(
            {
                "events": [
                    {
                        "name": name,
                        "description": spec.description,
                        "fields": {k: f.description for k, f in spec.fields.items()},
                    }
                    for name, spec in EVENTS.items()
                ],
                "common_fields": {k: f.description for k, f in COMMON_FIELDS.items()},
            }
        )


# --- the events in the OpenAPI document ------------------------------------------------------

SIGNATURE_DOC = (
    "Signed: `X-Caseowner-Signature: t=<unix seconds>,sha256=<hex>` is HMAC-SHA256 of "
    "`\"<t>.\" + body` with the endpoint's secret; during a rotation's overlap a second "
    "`sha256=` is signed with the previous secret (accept any that matches). "
    "`X-Caseowner-Timestamp` repeats `t` (refuse old ones), `X-Caseowner-Event` names the "
    "event, `X-Caseowner-Delivery` is the same on every retry (drop one seen before). Events "
    "of one case arrive in order; answer 2xx to acknowledge, anything else is retried "
    "(4xx but 408, 425 and 429 are final)."
)
_HEADERS = {
    "X-Caseowner-Signature": "t=<unix seconds>,sha256=<hex>[,sha256=<hex>]",
    "X-Caseowner-Timestamp": "Unix seconds of the signature.",
    "X-Caseowner-Event": "The event's name.",
    "X-Caseowner-Delivery": "The delivery's id, the same on every retry.",
}


def _component_name(event: str) -> str:
    return "WebhookEvent" + "".join(p.title() for p in event.replace("_", ".").split("."))


def _property(field: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": field.type, "description": field.description}
    if field.nullable:
        schema["nullable"] = True
    return schema


def _case_schema() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "description": "The case as the event found it (the API's field names).",
        "required": ["ref", "status", "priority", "channel", "subject", "team", "owner"],
        "properties": {
            "ref": text,
            "status": text,
            "priority": text,
            "channel": text,
            "subject": text,
            "team": {"type": "integer"},
            "owner": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": text},
            },
        },
    }


def document_webhook_events(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: one component per webhook event (the signed
    document a receiver gets, its ``data`` field by field) and ``x-webhooks`` (OpenAPI 3.1's
    ``webhooks`` for a 3.0 document): each event as the POST the receiver answers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["WebhookCase"] = _case_schema()
    webhooks: dict[str, Any] = {}
    for name, spec in EVENTS.items():
        data: dict[str, Any] = {"type": "object", "description": spec.description}
        if spec.fields:  # an event of the case's timeline, or notice.failed
            common = {k: _property(f) for k, f in COMMON_FIELDS.items()}
            common["case"] = {"$ref": "#/components/schemas/WebhookCase"}
            data = {
                "type": "object",
                "required": [*COMMON_FIELDS, *spec.fields],
                "properties": {**common, **{k: _property(f) for k, f in spec.fields.items()}},
            }
        component = _component_name(name)
        schemas[component] = {
            "type": "object",
            "description": f"{spec.description}\n\n{SIGNATURE_DOC}",
            "required": ["id", "event", "scope", "key", "created_at", "data"],
            "properties": {
                "id": {"type": "string", "description": "The delivery id."},
                "event": {"type": "string", "enum": [name]},
                "scope": {"type": "string", "description": "team:<id>"},
                "key": {"type": "string", "description": "The event's own key."},
                "created_at": {"type": "string", "format": "date-time"},
                "data": data,
            },
        }
        webhooks[name] = {
            "post": {
                "operationId": "webhook_" + name.replace(".", "_"),
                "summary": spec.description,
                "description": SIGNATURE_DOC,
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in _HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{component}"}
                        }
                    },
                },
                "responses": {"2XX": {"description": "Received."}},
            }
        }
    result["x-webhooks"] = webhooks
    return result
