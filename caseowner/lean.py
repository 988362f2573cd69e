"""A lean middleware stack for API clients: what a token-authenticated ``/api/`` call does
not need is not run.

Each middleware named here is one of Django's (or WhiteNoise's) that passes a *lean*
request straight through: a path under ``/api/`` that carries no session cookie. Such a
request authenticates with its token (DRF, after the middleware), so sessions, the signed-in
user, CSRF (which protects cookie-authenticated requests only), flash messages and static
files have nothing to do (the login lock-out stays: it only looks at a flag after the view).
A session-authenticated API call (the browsable API, a page's script) carries the cookie and
gets the full stack, CSRF included.
What every request keeps: the security headers (``SecurityMiddleware``,
``X-Frame-Options``, the CSP), the request id and log line, the metrics and the JSON
errors, and DRF's token check and throttles.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import checks
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware

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
    """Mixed in before a middleware class: a lean request passes straight through it (its
    ``process_view`` too, where it has one). A subclass of the middleware it wraps, so the
    system checks that look for Django's middleware (the admin's) find it."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_lean(request):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


class StaticFiles(PagesOnly, WhiteNoiseMiddleware):
    pass


class Sessions(PagesOnly, SessionMiddleware):
    pass


class Csrf(PagesOnly, CsrfViewMiddleware):
    def process_view(
        self, request: HttpRequest, callback: Any, callback_args: Any, callback_kwargs: Any
    ) -> HttpResponseForbidden | None:
        if is_lean(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class Authentication(PagesOnly, AuthenticationMiddleware):
    pass


class Messages(PagesOnly, MessageMiddleware):
    pass


@checks.register(checks.Tags.security, deploy=True)
def csrf_protection_installed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django's own check (security.W003) looks for CsrfViewMiddleware by name, so it is
    silenced in the settings and this one asks the question it asks: does a middleware of
    the stack protect against cross-site requests (``Csrf`` above is that middleware)?"""
    from django.utils.module_loading import import_string

    installed = [import_string(path) for path in settings.MIDDLEWARE]
    if any(isinstance(m, type) and issubclass(m, CsrfViewMiddleware) for m in installed):
        return []
    return [
        checks.Warning(
            "No middleware protects against cross-site request forgery: put "
            "caseowner.lean.Csrf (or Django's CsrfViewMiddleware) in MIDDLEWARE.",
            id="caseowner.W003",
        )
    ]
