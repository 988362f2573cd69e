"""Shared API plumbing: the error shape, pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from caseowner.errors import RuleError

# Stable codes for DRF's own exceptions, so clients never see a class name.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "invalid_input",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{key}.{i}.{sub}"] = msgs
            elif isinstance(value, list):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into ``{"code", "message", "fields"}`` with a 4xx status."""
    if isinstance(exc, RuleError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        return Response(
            error_body("invalid_input", "The request has invalid fields.", fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message = "The request has invalid fields."
        fields = _flatten(exc.detail)
    else:
        message = str(exc.detail)
        fields = {}
    response.data = error_body(code, message, fields)
    return response


# Ids are 64-bit integers in the database; anything larger is invalid input, not a crash.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """An object id given by a client."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


def _error_schema():  # noqa: ANN202
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    return inline_serializer(
        name="Error",
        fields={
            "code": serializers.CharField(help_text="Stable snake_case error code."),
            "message": serializers.CharField(help_text="Human-readable explanation."),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Per-field messages, if any.",
            ),
        },
    )


ERROR_RESPONSES: dict[int, Any] = {}


def error_responses(*codes: int) -> dict[int, Any]:
    """``extend_schema(responses={..., **error_responses(400, 404)})``."""
    if not ERROR_RESPONSES:
        schema = _error_schema()
        ERROR_RESPONSES.update({c: schema for c in (400, 401, 403, 404, 409, 429)})
    return {c: ERROR_RESPONSES[c] for c in codes}
