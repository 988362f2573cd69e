"""A phone-only customer's slipped promise, end to end with real parts (PostgreSQL, Redis,
Celery beat and a worker, SMTP on loopback): one call for the owner, an outbox row that says
why, and no email attempted; the managers' alert still arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import OwnerTask
from cases.services import case_open
from commitments.models import BusinessCalendar, Commitment
from commitments.services import commitment_create
from commitments.sweep import commitments_sweep_due
from notifications.models import DeliveryLog, Notification, NotificationStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_phone_only_customers_slipped_promise_is_a_call_not_an_email(outbox_processes, smtp_sink):
    team = TeamFactory(time_zone="Europe/London", first_response_seconds={"email": 86400})
    BusinessCalendar.objects.create(team=team, around_the_clock=True)
    agent, manager = make_agent(team), make_manager(team)
    customer = CustomerFactory(
        full_name="Mary Campbell",
        family_name="Campbell",
        title="Mrs",
        email="",
        phone="+447700900021",
        preferred_channel="phone",
    )
    case = case_open(customer=customer, team=team, channel="web", subject="Delivery", by=agent)
    promise = commitment_create(
        case=case, by=agent, description="Deliver the kettle", kind="delivery", due="1 hour"
    )
    past = timezone.now() - timedelta(seconds=1)
    Commitment.objects.filter(pk=promise.pk).update(due_at=past, at_risk_from=past)
    commitments_sweep_due()
    outbox_processes.start()

    key = f"commitment:{promise.pk}:missed:apology"
    wait_for(lambda: any(manager.email in r.to for r in smtp_sink.snapshot()), timeout=30)
    [task] = OwnerTask.objects.filter(dedupe_key=key)
    assert task.text.startswith("Call Mrs Campbell on 07700 900021: apologise: we missed")
    row = Notification.objects.filter(dedupe_key=key).first()
    status = row.status if row else DeliveryLog.objects.get(dedupe_key=key).status
    assert status == NotificationStatus.NO_ROUTE
    if row is not None:
        assert row.attempts == 0
        assert row.last_error == "no_route: customer has no email address (phone only)"
    # nothing for the customer ever reached the SMTP server: every message is for staff
    staff = (agent.email, manager.email)
    assert all(any(a in r.to for a in staff) for r in smtp_sink.snapshot())
    customer_rows = Notification.objects.filter(recipient_kind="customer")
    assert set(customer_rows.values_list("status", flat=True)) <= {NotificationStatus.NO_ROUTE}
    assert not customer_rows.filter(attempts__gt=0).exists()
