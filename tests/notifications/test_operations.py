from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from notifications.models import Notification
from notifications.selectors import outbox_health, outbox_status
from tests.factories import UserFactory
from tests.notifications.conftest import T0

pytestmark = pytest.mark.django_db

URL = "/api/v1/health/notifications/"


@pytest.fixture
def outbox(enqueue, frozen):
    enqueue("due-late", send_after=T0 - timedelta(minutes=10))
    enqueue("future", send_after=T0 + timedelta(days=1))
    failed = enqueue("failed")
    Notification.objects.filter(pk=failed.pk).update(
        status="failed", attempts=1, last_error="550 no such user", finished_at=T0
    )
    return failed


def test_status_counts_by_status_and_measures_the_oldest_due_row(outbox, django_assert_num_queries):
    # lag, lost leases, the failures, and one count per status on its partial index
    with django_assert_num_queries(9):
        status = outbox_status()
    assert status["counts"] == {
        "pending": 2,
        "sending": 0,
        "sent": 0,
        "failed": 1,
        "cancelled": 0,
        "no_route": 0,
    }
    assert status["oldest_due_pending_seconds"] == 600.0
    assert status["expired_leases"] == 0
    [failure] = status["recent_failures"]
    assert (failure["id"], failure["error"]) == (outbox.pk, "550 no such user")


def test_the_command_prints_the_status(outbox, capsys):
    call_command("notifications_status")
    out = capsys.readouterr().out
    assert "pending 2" in out
    assert "600.0 s late" in out
    assert "550 no such user" in out


def test_the_health_endpoint_is_closed_to_anonymous_and_non_staff_users(outbox, client):
    anonymous = client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_the_health_endpoint_answers_staff_and_says_when_it_is_late(outbox, client):
    assert reverse("health-notifications") == URL
    client.force_login(UserFactory(is_staff=True))
    late = client.get(URL)
    assert late.status_code == 503
    assert late.json()["healthy"] is False
    ok = client.get(URL, {"stale_after": 3600})
    assert ok.status_code == 200
    assert ok.json()["counts"]["failed"] == 1


@pytest.fixture
def lost_lease(enqueue, frozen, settings):
    """A row claimed by a worker that died: its lease ran out ten minutes ago. Nothing is
    late: the row is no longer pending."""
    settings.OUTBOX_SWEEP_INTERVAL = 2.0
    lost = enqueue("lost")
    Notification.objects.filter(pk=lost.pk).update(
        status="sending", attempts=1, lease_expires_at=T0 - timedelta(minutes=10)
    )
    return lost


def test_the_health_rule_counts_a_lease_no_sweep_reclaimed(lost_lease):
    health = outbox_health()
    assert (health.lag_seconds, health.expired_leases) == (0.0, 1)
    assert health.healthy is False


def test_the_health_rule_allows_a_lease_the_next_sweep_will_reclaim(lost_lease, settings):
    Notification.objects.update(lease_expires_at=T0 - timedelta(seconds=1))
    assert outbox_health().healthy is True


def test_the_health_endpoint_answers_503_for_a_lost_lease(lost_lease, client):
    client.force_login(UserFactory(is_staff=True))
    answer = client.get(URL)
    assert answer.status_code == 503
    assert answer.json()["expired_leases"] == 1
    assert "expired lease" in answer.json()["problems"][0]


def test_the_command_names_the_lost_lease(lost_lease, capsys):
    call_command("notifications_status")
    assert "1 claimed messages with an expired lease" in capsys.readouterr().out


def test_the_health_endpoint_accepts_a_staff_token_or_the_monitoring_token(
    outbox, client, settings
):
    token = Token.objects.create(user=UserFactory(is_staff=True))
    answer = client.get(URL, {"stale_after": 3600}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200
    settings.OUTBOX_HEALTH_TOKEN = "monitoring-token-0123456789"
    answer = client.get(
        URL, {"stale_after": 3600}, HTTP_AUTHORIZATION="Bearer monitoring-token-0123456789"
    )
    assert answer.status_code == 200
    assert (
        client.get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    )  # not authenticated: asks for a token


def test_admin_lists_notifications_and_retries_failed_ones(outbox, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:notifications_notification_changelist")
    assert client.get(changelist, {"status__exact": "failed"}).status_code == 200

    answer = client.post(
        changelist,
        {"action": "retry_failed", "_selected_action": [outbox.pk]},
        follow=True,
    )

    assert answer.status_code == 200
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("pending", 0)
