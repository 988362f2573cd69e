"""The staff pages' language: the one the signed-in agent chose on their availability page
(``AgentProfile.language``), else the browser's ``Accept-Language``, else English.

The customer's page speaks the customer's language (its view overrides this one) and the API
keeps its English messages, so neither passes through here."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

# Paths that are no staff page: the API, the customer's page, static files and operations.
NOT_STAFF_PAGES = ("/api/", "/c/", "/static/", "/metrics", "/health/")


def chosen_language(request: HttpRequest) -> str:
    """The agent's own choice (their profile comes with the user, so no query), else blank."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    profile = getattr(user, "agent_profile", None)
    return getattr(profile, "language", "") or ""


def staff_language(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(NOT_STAFF_PAGES):
            return get_response(request)
        chosen = chosen_language(request)
        language = chosen or translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
            response = get_response(request)
        if not chosen:
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response

    return middleware
