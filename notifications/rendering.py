"""Rendering a notification's email from its template base path and JSON context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist
from django.template.backends.django import get_installed_libraries
from django.utils import translation

# Send-time refreshers: a context carrying a marker key is given to the refresher registered
# for it just before rendering, so a message names what is true when it is sent, not when it
# was queued (an app above registers one from its AppConfig.ready; notifications knows none).
ContextRefresher = Callable[[dict], dict]
_refreshers: dict[str, ContextRefresher] = {}


def context_refresher_register(marker: str, refresher: ContextRefresher) -> None:
    """Refresh every context that has the key ``marker`` with ``refresher(context)``."""
    _refreshers[marker] = refresher


def context_refresh(context: dict) -> dict:
    """The context as it should be rendered now (a copy; the stored row is not changed)."""
    for marker, refresher in _refreshers.items():
        if marker in context:
            context = refresher(dict(context))
    return context


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


class TemplateMissing(Exception):
    """The subject or plain-text template does not exist: a permanent failure."""


@cache
def _engine(*, autoescape: bool) -> Engine:
    """The project's template directories with cached loaders (workers render thousands of
    emails from a few templates); without escaping for subjects and plain-text bodies."""
    options: dict[str, Any] = settings.TEMPLATES[0]
    return Engine(
        dirs=[str(d) for d in options.get("DIRS", [])],
        app_dirs=bool(options.get("APP_DIRS")),
        autoescape=autoescape,
        debug=False,
        # as the project's templates have them: i18n, and each app's tags (``local_time``)
        libraries=get_installed_libraries(),
    )


def _render(name: str, ctx: dict, *, autoescape: bool) -> str:
    template = _engine(autoescape=autoescape).get_template(name)
    return template.render(Context(ctx, autoescape=autoescape))


def render_email(*, template: str, context: dict, recipient_name: str = "") -> RenderedEmail:
    """Render ``<template>.subject.txt``, ``<template>.txt`` and, if present, ``.html``.

    The context gets ``recipient_name`` and a ``salutation``: the caller's
    ``customer_name`` (the recipient's preferred form of address) when given, else the name.
    It is rendered in the context's ``language`` (default: ``LANGUAGE_CODE``).
    """
    ctx = {
        "recipient_name": recipient_name,
        "salutation": context.get("customer_name") or recipient_name,
        **context,
    }
    # Written in the reader's language (the context's ``language``) where a translation
    # exists, else in the default language.
    with translation.override(context.get("language") or settings.LANGUAGE_CODE):
        try:
            subject = _render(f"{template}.subject.txt", ctx, autoescape=False)
            text = _render(f"{template}.txt", ctx, autoescape=False)
        except TemplateDoesNotExist as exc:
            raise TemplateMissing(f"template not found: {exc}") from exc
        try:
            html: str | None = _render(f"{template}.html", ctx, autoescape=True)
        except TemplateDoesNotExist:
            html = None
    # A subject is one line, whatever the template's whitespace.
    subject = " ".join(subject.split())
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)
