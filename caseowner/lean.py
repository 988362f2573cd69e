"""A lean middleware stack for API clients: what a token-authenticated ``/api/`` call does
not need is not run.

Each middleware named here wraps one of Django's (or a package's) and passes a *lean*
request straight through: a path under ``/api/`` that carries no session cookie. Such a
request authenticates with its token (DRF, after the middleware), so sessions, the signed-in
user, CSRF (which protects cookie-authenticated requests only), flash messages, the login
lock-out and static files have nothing to do. A session-authenticated API call (the
browsable API, a page's script) carries the cookie and gets the full stack, CSRF included.
What every request keeps: the security headers (``SecurityMiddleware``,
``X-Frame-Options``, the CSP), the request id and log line, the metrics and the JSON
errors, and DRF's token check and throttles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

API_PREFIX = "/api/"


def is_lean(request: HttpRequest) -> bool:
    """An ``/api/`` call without a session cookie (decided once per request)."""
    lean = getattr(request, "_caseowner_lean", None)
    if lean is None:
        lean = request.path_info.startswith(API_PREFIX) and (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        )
        request._caseowner_lean = lean  # type: ignore[attr-defined]
    return lean


class PagesOnly:
    """Runs ``wrapped`` (an import path) for every request but a lean one, its
    ``process_view`` / ``process_exception`` / ``process_template_response`` hooks too."""

    wrapped = ""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.inner = import_string(self.wrapped)(get_response)
        for hook in ("process_view", "process_exception", "process_template_response"):
            if hasattr(self.inner, hook):
                setattr(self, hook, self._hook(getattr(self.inner, hook)))

    @staticmethod
    def _hook(method: Callable[..., Any]) -> Callable[..., Any]:
        def hook(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if is_lean(request):
                return args[0] if method.__name__ == "process_template_response" else None
            return method(request, *args, **kwargs)

        return hook

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_lean(request):
            return self.get_response(request)
        return self.inner(request)


class StaticFiles(PagesOnly):
    wrapped = "whitenoise.middleware.WhiteNoiseMiddleware"


class Sessions(PagesOnly):
    wrapped = "django.contrib.sessions.middleware.SessionMiddleware"


class Csrf(PagesOnly):
    wrapped = "django.middleware.csrf.CsrfViewMiddleware"


class Authentication(PagesOnly):
    wrapped = "django.contrib.auth.middleware.AuthenticationMiddleware"


class Messages(PagesOnly):
    wrapped = "django.contrib.messages.middleware.MessageMiddleware"


class LoginLockout(PagesOnly):
    wrapped = "axes.middleware.AxesMiddleware"
