"""The request id of an API call follows its notification into the worker that delivers it,
with real parts: PostgreSQL, Redis, Celery beat and a worker, an SMTP server on loopback."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification, NotificationStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_the_worker_logs_the_delivery_with_the_request_id_of_the_api_call(
    outbox_processes, smtp_sink
):
    team = TeamFactory()
    agent = make_agent(team)
    customer = CustomerFactory()
    client = APIClient()
    client.force_authenticate(agent)
    outbox_processes.env.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
    outbox_processes.beat()
    worker = outbox_processes.worker()

    answer = client.post(
        "/api/v1/cases/",
        {"customer": customer.pk, "team": team.pk, "channel": "email", "subject": "Refund"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    request_id = answer["X-Request-ID"]
    wait_for(lambda: any(customer.email in r.to for r in smtp_sink.snapshot()), timeout=30)
    notification = Notification.objects.get(recipient_address=customer.email)
    wait_for(
        lambda: Notification.objects.get(pk=notification.pk).status == NotificationStatus.SENT,
        timeout=10,
    )

    def delivery_line() -> dict | None:
        for line in json_lines(worker.log.read_text(errors="replace")):
            if line.get("notification_id") == notification.pk and "sent" in line["event"]:
                return line
        return None

    line = wait_for(delivery_line, timeout=10)
    assert isinstance(line, dict)
    assert line["request_id"] == request_id
    assert line["case_ref"] == answer.json()["ref"]
    assert line["task"] == "notifications.deliver_batch"
