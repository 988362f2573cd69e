"""Promises end to end with real parts: PostgreSQL, Redis, Celery beat (the outbox sweep and
the due sweep) and a worker, and an SMTP server on loopback. Real time, in seconds."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone

from cases.services import case_open
from commitments.models import BusinessCalendar, Commitment, CommitmentStatus
from commitments.services import commitment_create, commitment_mark_kept
from notifications.models import Notification, NotificationStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def subjects_to(sink, address: str) -> list[str]:
    return [r.subject for r in sink.snapshot() if address in r.to]


def test_a_kept_promise_sends_no_later_reminder_and_a_missed_one_apologises_once(
    outbox_processes, smtp_sink
):
    # A team working around the clock, reminded 6 seconds before a promise is due.
    team = TeamFactory(time_zone="Europe/London", first_response_seconds={"email": 86400})
    BusinessCalendar.objects.create(
        team=team, around_the_clock=True, reminder_leads=["0.1 minutes"]
    )
    agent, manager = make_agent(team), make_manager(team)
    customer = CustomerFactory(time_zone="Europe/Paris")
    outbox_processes.start()
    case = case_open(customer=customer, team=team, channel="email", subject="Leak", by=agent)
    # The case's acknowledgement arriving shows beat and worker are up.
    wait_for(lambda: subjects_to(smtp_sink, customer.email), timeout=60)
    now = timezone.now()
    kept = commitment_create(
        case=case,
        by=agent,
        description="Call you back about the kept promise",
        kind="callback",
        due=now + timedelta(seconds=9),
    )
    missed = commitment_create(
        case=case,
        by=agent,
        description="Call you back about the missed promise",
        kind="callback",
        due=now + timedelta(seconds=10),
    )
    commitment_mark_kept(commitment=kept, by=agent)

    # The missed promise's apology comes after both reminder times and both due times.
    wait_for(
        lambda: any("My apologies" in s for s in subjects_to(smtp_sink, customer.email)),
        timeout=45,
    )
    wait_for(lambda: subjects_to(smtp_sink, manager.email), timeout=15)

    to_agent = subjects_to(smtp_sink, agent.email)
    assert [s for s in to_agent if "missed promise" in s] == [
        f"[{case.ref}] At risk, due {_local_hm(missed)}: Call you back about the missed promise"
    ]
    assert not [s for s in to_agent if "kept promise" in s]
    to_customer = subjects_to(smtp_sink, customer.email)
    assert sum("My apologies" in s for s in to_customer) == 1
    assert all(s.startswith(f"[{case.ref}]") for s in to_customer)
    assert len(subjects_to(smtp_sink, manager.email)) == 1
    missed.refresh_from_db()
    assert missed.status == CommitmentStatus.MISSED
    assert not Notification.objects.filter(
        dedupe_key__startswith=f"commitment:{kept.pk}:due:", status=NotificationStatus.SENT
    ).exists()

    made = wait_for(
        lambda: next(
            (
                r
                for r in smtp_sink.snapshot()
                if r.subject.startswith(f"[{case.ref}] Promised by ")
                and r.subject.endswith("Call you back about the missed promise")
            ),
            None,
        ),
        timeout=15,
    )
    (ics,) = [a for a in made.message.iter_attachments() if a.get_filename().endswith(".ics")]
    event = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == Commitment.objects.get(pk=missed.pk).due_at
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Paris"


def _local_hm(commitment) -> str:
    from commitments.notices import local_text

    return local_text(commitment.due_at, "Europe/London")
