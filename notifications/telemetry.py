"""What the outbox tells operations: delivery counters and the log context of a delivery.

Counters go to the shared store (``caseowner.store``: Redis across processes, else
process memory), labelled by channel and a short reason (an SMTP or HTTP code, an error's
kind). The request id of the call that queued a message is kept on its row, so the worker's
log lines for its delivery carry it with the notification id and the context keys that the
apps above register (``log_context_key_register``: cases registers its case reference).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from caseowner.store import get_store, series_key
from notifications.models import Notification

DELIVERIES = "caseowner_outbox_deliveries"
FAILURES = "caseowner_outbox_failures"
RETRIES = "caseowner_outbox_retries"

# Keys of a notification's context that name what it is about (an app above registers its
# own from AppConfig.ready; notifications knows none).
_log_context_keys: list[str] = []


def log_context_key_register(key: str) -> None:
    """Bind ``context[key]``, when a notification has it, on every log line of its delivery."""
    if key not in _log_context_keys:
        _log_context_keys.append(key)


def current_request_id() -> str:
    """The request id bound to this context (by the request middleware), or ""."""
    return str(structlog.contextvars.get_contextvars().get("request_id") or "")[:64]


@contextmanager
def delivery_log_context(notification: Notification) -> Iterator[None]:
    """Bind the notification id, the registered context keys and the originating request
    id on every log line written while it is delivered; the previous bindings come back
    afterwards."""
    bound: dict[str, object] = {
        "notification_id": notification.pk,
        "channel": notification.channel,
    }
    context = notification.context or {}
    for key in _log_context_keys:
        if context.get(key):
            bound[key] = context[key]
    if notification.request_id:
        bound["request_id"] = notification.request_id
    with structlog.contextvars.bound_contextvars(**bound):
        yield


def count_delivery(*, channel: str, outcome: str, reason: str = "") -> None:
    """One delivery attempt ended: sent, failed for good, or to be retried."""
    if outcome == "sent":
        key = series_key(DELIVERIES, {"channel": channel})
    elif outcome == "failed":
        key = series_key(FAILURES, {"channel": channel, "reason": reason or "unknown"})
    elif outcome == "retry":
        key = series_key(RETRIES, {"channel": channel, "reason": reason or "unknown"})
    else:
        return
    get_store().update(incr={key: 1.0})
