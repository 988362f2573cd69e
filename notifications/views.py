"""The outbox health endpoint for monitoring: staff session, DRF token of a staff user, or
the ``OUTBOX_HEALTH_TOKEN`` bearer token."""

from __future__ import annotations

import hmac

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.selectors import outbox_status


class StaffOrHealthToken(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        token = settings.OUTBOX_HEALTH_TOKEN
        header = request.headers.get("Authorization", "")
        if token and header.startswith("Bearer "):
            return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class NotificationsHealthView(APIView):
    """Counts by status, oldest due pending age, expired leases, recent failures.

    Answers 503 when the oldest due message is late by more than ``stale_after`` seconds
    (default 300) or leases have expired, so a plain HTTP check can alert.
    """

    permission_classes = [StaffOrHealthToken]
    throttle_classes: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        status = outbox_status()
        try:
            stale_after = float(request.query_params.get("stale_after", 300))
        except ValueError:
            stale_after = 300.0
        healthy = status["oldest_due_pending_seconds"] <= stale_after
        status["healthy"] = healthy
        return Response(status, status=200 if healthy else 503)
