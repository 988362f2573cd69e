"""Logging: one JSON line per event (``LOG_FORMAT=json``), or plain text for people.

structlog renders both the events django-structlog writes (request started and finished,
task started and succeeded) and every standard-library log call, with the context bound
for the request or task merged in: ``request_id`` (from ``X-Request-ID`` or new), and in
tasks ``task``, ``task_id`` and, while a notification is delivered, ``notification_id``,
``case_ref`` and the ``request_id`` of the call that queued it. No Django imports: the
settings module calls this.
"""

from __future__ import annotations

from typing import Any

import structlog

FORMATS = ("plain", "json")

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
