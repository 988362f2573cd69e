"""Logging: one JSON line per event (``LOG_FORMAT=json``), or plain text for people.

structlog renders both the events django-structlog writes (request started and finished,
task started and succeeded) and every standard-library log call, with the context bound
for the request or task merged in: ``request_id`` (from ``X-Request-ID`` or new), and in
tasks ``task``, ``task_id`` and, while a notification is delivered, ``notification_id``,
``case_ref`` and the ``request_id`` of the call that queued it. A logged request keeps its
path and the names of its query parameters, never their values (a search for an email
address is personal data). No Django imports: the settings module calls this.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

FORMATS = ("plain", "json")

# A query string in a logged request line ("GET /search/?q=ruth@example.org"), up to the
# next space or quote.
_QUERY = re.compile(r"\?([^\s\"']*)")
# A parameter name kept in the log: a plain word; anything else goes with the values.
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")
REDACTED = "[redacted]"


def _query_names_only(match: re.Match[str]) -> str:
    names = []
    for part in match.group(1).split("&"):
        name = part.split("=", 1)[0]
        if part and "=" in part and _PARAM_NAME.fullmatch(name):
            names.append(f"{name}={REDACTED}")
        elif part:
            names.append(REDACTED)
    return "?" + "&".join(names)


def without_query_values(request_line: str) -> str:
    """``request_line`` with every query value replaced by ``[redacted]``: searches and filters
    carry email addresses, names and phone numbers, which the logs must not keep."""
    return _QUERY.sub(_query_names_only, request_line)


def _drop_query_values(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The request django-structlog logs (``request``: "GET /path?…") and the request line
    of runserver's ``django.server`` events, without their query values."""
    if isinstance(event_dict.get("request"), str):
        event_dict["request"] = without_query_values(event_dict["request"])
    if event_dict.get("logger") == "django.server" and isinstance(event_dict.get("event"), str):
        event_dict["event"] = without_query_values(event_dict["event"])
    return event_dict


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_structlog() -> None:
    """structlog hands its events to the standard library, which formats them."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict for ``fmt`` ("plain" or "json") at ``level``."""
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _drop_query_values,
                    # JSON carries the traceback as text; the console renderer prints its own.
                    *([structlog.processors.format_exc_info] if fmt == "json" else []),
                    renderer,
                ],
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Every request as an event in JSON; for people, runserver already prints them.
            "django_structlog": {"level": level if fmt == "json" else "WARNING"},
        },
    }
