"""/health/live and /health/ready for load balancers and orchestrators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications.services import Recipient, notification_enqueue
from tests.ops.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""
    settings.READY_MAX_OUTBOX_LAG_SECONDS = 60


def queue(send_after) -> None:
    notification_enqueue(
        recipient=Recipient(address="ada@example.org", name="Ada Okafor"),
        template="notifications/email/message",
        context={"subject": "Hello", "body": "Body"},
        dedupe_key=f"k-{send_after.isoformat()}",
        send_after=send_after,
    )


def test_live_answers_without_asking_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/health/live")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_ready_answers_200_when_every_check_passes(client, no_broker, frozen):
    queue(T0 - timedelta(seconds=30))
    answer = client.get("/health/ready")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "migrations", "outbox"}


def test_ready_answers_503_naming_the_broker_when_it_is_down(client, settings, frozen):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["broker"]


def test_ready_answers_503_naming_the_outbox_when_the_lag_passes_the_threshold(
    client, no_broker, frozen
):
    queue(T0 - timedelta(seconds=61))
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["outbox"]
    assert "61 s late" in body["checks"]["outbox"]["detail"]


def test_ready_answers_503_when_a_lost_lease_is_never_reclaimed(client, no_broker, frozen):
    from notifications.models import Notification

    queue(T0)
    Notification.objects.update(
        status="sending", attempts=1, lease_expires_at=T0 - timedelta(minutes=10)
    )
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["outbox"]
