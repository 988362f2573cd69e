"""/metrics: the outbox and Celery series for a known state, under a frozen clock."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest

from notifications.models import NotificationStatus
from notifications.services import Recipient, notification_enqueue, outbox_claim_batch
from notifications.tasks import deliver_notification
from tests.ops.conftest import T0, scrape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_metrics")]


def queue(key: str, send_after=None):
    return notification_enqueue(
        recipient=Recipient(address=f"{key}@example.org", name="Ada Okafor"),
        template="notifications/email/message",
        context={"subject": "Hello", "body": "Body", "case_ref": "CASE-000042"},
        dedupe_key=key,
        send_after=send_after or T0,
    )


@pytest.fixture
def scripted_email(settings):
    from tests.notifications import backends

    settings.EMAIL_BACKEND = "tests.notifications.backends.ScriptedBackend"
    backends.ScriptedBackend.errors = []
    yield backends.ScriptedBackend.errors
    backends.ScriptedBackend.errors = []


def deliver_due(errors: list, *raised: Exception) -> None:
    """Claim what is due and deliver it through the Celery task, raising ``raised`` first."""
    errors.extend(raised)
    for claim in outbox_claim_batch():
        deliver_notification.apply(args=(claim.notification_id, claim.attempt))


@pytest.fixture
def known_state(frozen, scripted_email):
    """One delivered, one refused with 550, then three pending: the oldest 40 s late."""
    queue("delivered")
    queue("refused", send_after=T0 - timedelta(seconds=1))
    refused = smtplib.SMTPRecipientsRefused({"refused@example.org": (550, b"no such user")})
    deliver_due(scripted_email, refused)
    queue("late-40", send_after=T0 - timedelta(seconds=40))
    queue("late-10", send_after=T0 - timedelta(seconds=10))
    queue("tomorrow", send_after=T0 + timedelta(days=1))


def test_rows_by_status_count_the_hot_outbox(known_state, client):
    samples = scrape(client)
    rows = {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "caseowner_outbox_rows"
    }
    assert rows == {
        "pending": 3,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "cancelled": 0,
        "no_route": 0,
    }


def test_the_delivery_lag_is_how_late_the_oldest_due_row_is(known_state, client):
    assert scrape(client)[("caseowner_outbox_delivery_lag_seconds", ())] == 40.0


def test_failures_are_counted_by_channel_and_smtp_code(known_state, client):
    samples = scrape(client)
    failed = (("channel", "email"), ("reason", "550"))
    assert samples[("caseowner_outbox_failures_total", failed)] == 1.0
    assert samples[("caseowner_outbox_deliveries_total", (("channel", "email"),))] == 1.0


def test_transient_errors_are_counted_as_retries(frozen, scripted_email, client):
    queue("busy")
    deliver_due(scripted_email, smtplib.SMTPResponseException(451, b"try again later"))
    retried = (("channel", "email"), ("reason", "451"))
    assert scrape(client)[("caseowner_outbox_retries_total", retried)] == 1.0


def test_a_lease_expired_and_not_reclaimed_is_counted(frozen, scripted_email, client):
    from notifications.models import Notification

    queue("lost")
    outbox_claim_batch()
    Notification.objects.update(lease_expires_at=T0 - timedelta(minutes=5))
    assert Notification.objects.get().status == NotificationStatus.SENDING
    assert scrape(client)[("caseowner_outbox_expired_leases", ())] == 1.0


def test_celery_tasks_are_counted_by_name_and_state(known_state, client):
    samples = scrape(client)
    task = ("task", "notifications.deliver")
    assert samples[("caseowner_celery_tasks_total", (("state", "started"), task))] == 2.0
    assert samples[("caseowner_celery_tasks_total", (("state", "succeeded"), task))] == 2.0


def test_request_series_come_from_django_prometheus(known_state, client):
    client.get("/health/live")
    samples = scrape(client)
    assert any(name.startswith("django_http_requests_total") for name, _ in samples)


def test_database_series_come_from_django_prometheus_on_postgresql(known_state, client, postgres):
    client.get("/health/live")
    samples = scrape(client)
    assert any(name.startswith("django_db_execute_total") for name, _ in samples)
