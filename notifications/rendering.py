"""Rendering a notification's email from its template base path and JSON context."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


class TemplateMissing(Exception):
    """The subject or plain-text template does not exist: a permanent failure."""


@cache
def _text_engine() -> Engine:
    """The project's template directories, without HTML escaping: for subjects and text bodies."""
    options = settings.TEMPLATES[0]
    return Engine(dirs=options["DIRS"], app_dirs=options["APP_DIRS"], autoescape=False)


def _render_text(name: str, ctx: dict) -> str:
    return _text_engine().get_template(name).render(Context(ctx, autoescape=False))


def render_email(*, template: str, context: dict, recipient_name: str = "") -> RenderedEmail:
    """Render ``<template>.subject.txt``, ``<template>.txt`` and, if present, ``.html``.

    The context gets ``recipient_name`` and a ``salutation``: the caller's
    ``customer_name`` (the recipient's preferred form of address) when given, else the name.
    """
    ctx = {
        "recipient_name": recipient_name,
        "salutation": context.get("customer_name") or recipient_name,
        **context,
    }
    try:
        subject = _render_text(f"{template}.subject.txt", ctx)
        text = _render_text(f"{template}.txt", ctx)
    except TemplateDoesNotExist as exc:
        raise TemplateMissing(f"template not found: {exc}") from exc
    try:
        html: str | None = render_to_string(f"{template}.html", ctx)
    except TemplateDoesNotExist:
        html = None
    # A subject is one line, whatever the template's whitespace.
    subject = " ".join(subject.split())
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)
