"""An absence that leaves promises uncovered, end to end: PostgreSQL, Redis, Celery beat and
a worker, and an SMTP server on loopback. The team's manager gets exactly one alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.availability.services import absence_alert_if_uncovered, absence_record
from cases.services import case_open
from commitments.services import commitment_create
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_absence_with_uncovered_promises_alerts_the_manager_once(outbox_processes, smtp_sink):
    team = TeamFactory(time_zone="UTC")
    owner = make_agent(team, display_name="Ana Ruiz")
    manager = make_manager(team)
    case = case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="Refund", by=owner,
        owner=owner,
    )  # fmt: skip
    now = timezone.now()
    commitment_create(
        case=case, by=owner, description="Call you back about the refund", kind="callback",
        due=now + timedelta(days=2),
    )  # fmt: skip
    plan = absence_record(
        agent=owner, by=owner, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(days=4)
    )
    assert plan.managers_alerted and plan.uncovered_case_ids == [case.pk]
    # the periodic check later finds it already alerted
    plan.absence.refresh_from_db()
    assert not absence_alert_if_uncovered(absence=plan.absence, now=timezone.now())
    outbox_processes.start()

    def alerts():
        return [
            r for r in smtp_sink.snapshot() if manager.email in r.to and "uncovered" in r.subject
        ]

    wait_for(lambda: alerts(), timeout=30)
    [mail] = alerts()
    assert "Ana Ruiz is away" in mail.subject
    assert case.ref in mail.text and "Call you back about the refund" in mail.text
