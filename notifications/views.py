"""The outbox health endpoint for monitoring: staff session, DRF token of a staff user, or
the ``OUTBOX_HEALTH_TOKEN`` bearer token. The rule lives in ``outbox_health``."""

from __future__ import annotations

import hmac

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.selectors import DEFAULT_STALE_AFTER, outbox_status


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
    (default 300) or a lease expired and no sweep reclaimed it, so a plain HTTP check can
    alert; ``problems`` says which.
    """

    permission_classes = [StaffOrHealthToken]
    throttle_classes: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        try:
            stale_after = float(request.query_params.get("stale_after", DEFAULT_STALE_AFTER))
        except ValueError:
            stale_after = DEFAULT_STALE_AFTER
        status = outbox_status(stale_after=stale_after)
        return Response(status, status=200 if status["healthy"] else 503)
