"""Shared API plumbing: the error shape, pagination, the JSON renderer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from caseowner import parsing
from caseowner.csv_export import csv_lines
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


_TOO_LARGE = ("request_too_large", "The request body is larger than this server accepts.")


def _lone_surrogate_path(data: Any) -> str | None:
    """Where the first string (a key or a value) holding a lone surrogate is, as
    "cases.0.next_step"; None when there is none. Walked without recursion: the decoder
    accepts nesting deeper than Python's stack."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if parsing.has_lone_surrogate(value):
                return path or "non_field_errors"
        elif isinstance(value, dict):
            for key, item in value.items():
                if parsing.has_lone_surrogate(key):
                    return f"{path}.{key!a}" if path else ascii(key)
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting too deep for the decoder answered as malformed input
    (a ``RecursionError`` is not a ``ValueError``, so DRF let it through as a 500), and a
    lone surrogate ("\\ud800", valid JSON but no text: no encoder, database or page can write
    it back) refused at the door as ``invalid_input`` naming the field."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        path = _lone_surrogate_path(data)
        if path is not None:
            raise RuleError(
                "invalid_input",
                "The request has invalid fields.",
                fields={path: [parsing.SURROGATE_MESSAGE]},
            )
        return data


_ENCODER = JSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class _AsciiJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON with every non-ASCII character escaped: the one form in which text that is
    not valid Unicode (a lone surrogate echoed in an error) can still be written."""

    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, byte for byte, written by orjson: several times faster on a page of rows.

    Dates and times, decimals, lazy strings and anything else orjson does not write itself
    go through DRF's own encoder, so they read exactly as before ("…Z", "12:30:00.123").
    An indented answer (``Accept: application/json; indent=2``) is left to DRF.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}):
            return self._drf_render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_ENCODER.default, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            # what orjson refuses (an integer past 64 bits, a lone surrogate) DRF still writes
            return self._drf_render(data, accepted_media_type, renderer_context)
        # like DRF: U+2028 and U+2029 escaped, so the JSON is also valid JavaScript
        if b"\xe2\x80" in out:
            out = out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return out

    def _drf_render(
        self, data: Any, accepted_media_type: str | None, renderer_context: Any
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # text no UTF-8 holds: written as \\u escapes, which any JSON reader accepts
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class CsvRenderer(renderers.BaseRenderer):
    """``?format=csv`` on an API view: the one CSV renderer. A subclass says which body is a
    table (``table_key``, the list the body carries) and how it becomes rows (``rows``); a
    view that streams its CSV itself leaves ``table_key`` empty. Anything else that reaches
    it (an error, what OPTIONS describes) is answered as the API answers it everywhere: the
    JSON error shape, with the JSON content type."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    table_key = ""

    def rows(self, data: dict) -> Iterable[Iterable[Any]]:
        raise NotImplementedError

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if self.table_key and isinstance(data, dict) and self.table_key in data:
            return "".join(csv_lines(self.rows(data))).encode()
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into ``{"code", "message", "fields"}`` with a 4xx status."""
    # Imported here: ``rest_framework.views`` reads DEFAULT_PARSER_CLASSES (this module's
    # JSONParser) when it loads, so importing it at the top made the two modules a cycle
    # whenever DRF's settings happened to import this module first (e.g. a system check).
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(*_TOO_LARGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RuleError):
        body = {**exc.extra, **error_body(exc.code, exc.message, exc.fields)}
        return Response(body, status=exc.status_code, headers=exc.headers or None)
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

    # Imported here: ``rest_framework.views`` reads DEFAULT_PARSER_CLASSES (this module) while
    # it loads, so importing it at the top is a cycle whenever Django's checks (a set, in no
    # fixed order) load this module before DRF's views, as a Celery worker's start-up can.

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
MAX_ID = parsing.MAX_ID


class IdField(serializers.IntegerField):
    """An object id given by a client."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class NewestFirstCursor(CursorPagination):
    """Pages newest first by ``(-created_at, -id)`` with an opaque ``cursor``: no ``COUNT(*)``
    over the whole history and no ``OFFSET`` that grows with the page number. The ``next``
    and ``previous`` links carry the cursor; a cursor this list did not give answers 400
    ``invalid_cursor``."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise RuleError(
                "invalid_cursor",
                "The cursor is not one this list gave: follow its next and previous links.",
                fields={self.cursor_query_param: ["Invalid cursor."]},
            ) from None


def _error_schema() -> Any:
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
        ERROR_RESPONSES.update({c: schema for c in (400, 401, 403, 404, 409, 410, 412, 422, 429)})
    return {c: ERROR_RESPONSES[c] for c in codes}


def paginated(item: Any, *, name: str) -> Any:
    """The schema of a ``Pagination`` answer: ``{count, next, previous, results: [item…]}``
    (what every list answers; documenting a bare array broke clients made from the schema)."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(min_value=0),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


def cursor_paginated(item: Any, *, name: str) -> Any:
    """The schema of a ``NewestFirstCursor`` answer: ``{next, previous, results: [item…]}``
    (no count: counting a team's whole history cost more than the page)."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(
                allow_null=True, help_text="The next (older) page; null on the last one."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous (newer) page; null on the first one."
            ),
            "results": item(many=True),
        },
    )


# Answers any API operation may give besides its own, added to the schema by
# ``document_every_answer`` when the operation does not describe them itself.
_COMMON_ANSWERS = {
    "401": "Not authenticated: no valid session or token (`not_authenticated`, "
    "`authentication_failed`).",
    "403": "Not allowed for this caller (`permission_denied`, a rule's own code, or a "
    "session request without its CSRF token).",
    "404": "Not found for this caller (`not_found`), including a page number past the end "
    '("Invalid page") on lists.',
    "429": "Too many requests (`throttled`; `notice_limit_reached` when the action would "
    "send the customer more notices than the daily limits allow).",
}


def document_every_answer(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: every ``/api/`` operation documents, in the error
    shape, the answers the framework can give whatever the view says: 401 and 403 where it
    needs authentication, 404 (unknown objects; "Invalid page" on lists), 429 where throttles
    apply (all but the health check). The schema then describes every answer."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            # ``auth=[]`` (the customer's link) leaves no security requirement at all.
            anonymous = not operation.get("security") or operation["security"] == [{}]
            health = path.startswith("/api/v1/health/")
            wanted = ["404"] if anonymous else ["401", "403", "404"]
            if not health:
                wanted.append("429")
            for code in wanted:
                responses.setdefault(code, {"description": _COMMON_ANSWERS[code], **error})
            for code, answer in responses.items():
                # a refusal is the JSON error shape, whatever format the caller asked for
                if code.startswith(("4", "5")) and len(answer.get("content", {})) > 1:
                    answer["content"] = {"application/json": answer["content"]["application/json"]}
    return result


# --- errors Django answers before (or instead of) an API view ------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: the error shape on every ``/api/`` path (an id the URL pattern refuses
    never reaches a view), Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception or Http404())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: an over-size body or a suspicious request on ``/api/`` answers JSON."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body(*_TOO_LARGE), status=413)
        return JsonResponse(error_body("bad_request", "The request cannot be read."), status=400)
    return defaults.bad_request(request, exception or SuspiciousOperation())


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a client of the API gets the error shape even on our own failure."""
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)


# What an error answer under /api/ says when no view of ours wrote it, by status.
_PLAIN_ERRORS = {
    400: ("bad_request", "The request cannot be read."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: _TOO_LARGE,
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}


def _writes_without_its_slash(request: HttpRequest) -> bool:
    """A write to an /api/ path without its final slash, which Django's APPEND_SLASH answers
    with a 301 (the client repeats it as a GET, without its body) or, with DEBUG on, a crash
    on purpose: the same 404 in every mode instead."""
    return (
        _is_api(request)
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and not request.path_info.endswith("/")
    )


def api_errors_as_json(get_response: Any) -> Any:
    """Middleware: every error answer under ``/api/`` is the error shape, in every mode. With
    ``DEBUG`` on, Django answers a path no route matches (``/api/v1/nope/``), an unreadable
    request and a crash with its technical HTML page instead of calling the handlers above
    (the traceback still goes to the log). An answer that is JSON already, or a DRF answer
    (the browsable API a browser asked for), is left as it is; the status and every header
    stay."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if _writes_without_its_slash(request):
            return JsonResponse(
                error_body("not_found", "Not found: every API path ends with a slash."), status=404
            )
        response = get_response(request)
        if (
            response.status_code < 400
            or not _is_api(request)
            or isinstance(response, Response)
            or response.get("Content-Type", "").startswith("application/json")
            or getattr(response, "streaming", False)
        ):
            return response
        code, message = _PLAIN_ERRORS.get(
            response.status_code, ("error", response.reason_phrase or "Error.")
        )
        response.content = orjson.dumps(error_body(code, message))
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    return middleware
