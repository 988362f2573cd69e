"""The log context of a delivery: notifications binds only the context keys an app above
registered, so it names no concept of theirs itself."""

from __future__ import annotations

import structlog

from notifications.models import Notification
from notifications.telemetry import delivery_log_context


def bound_while_delivering(context: dict) -> dict:
    notification = Notification(pk=7, channel="email", context=context, request_id="req-1")
    with delivery_log_context(notification):
        return structlog.contextvars.get_contextvars()


def test_a_delivery_logs_the_keys_registered_by_the_apps_above():
    # cases registers its reference from its AppConfig.ready
    bound = bound_while_delivering({"case_ref": "CASE-000007", "customer_name": "Ada"})
    assert bound == {
        "notification_id": 7,
        "channel": "email",
        "case_ref": "CASE-000007",
        "request_id": "req-1",
    }


def test_a_context_key_nobody_registered_stays_out_of_the_logs():
    assert "customer_name" not in bound_while_delivering({"customer_name": "Ada Okafor"})


def test_the_bindings_end_with_the_delivery():
    bound_while_delivering({"case_ref": "CASE-000007"})
    assert "case_ref" not in structlog.contextvars.get_contextvars()
