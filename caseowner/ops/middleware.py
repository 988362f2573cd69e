"""The request id goes back to the caller, so a support question can quote it."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse


def request_id_header(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Answer with ``X-Request-ID``: the id django-structlog bound for this request."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            response["X-Request-ID"] = str(request_id)
        return response

    return middleware
