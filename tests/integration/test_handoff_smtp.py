"""A hand-off end to end with real parts: PostgreSQL, Redis, Celery beat and a worker, and an
SMTP server on loopback. The customer's introduction arrives naming the new owner and how to
reach them directly."""

from __future__ import annotations

import pytest

from cases.handoffs import services as hs
from cases.services import case_open
from tests.factories import AgentFactory, CustomerFactory, TeamFactory, make_agent, offer
from tests.integration.celery_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_introduction_arrives_with_the_new_owners_direct_contacts(outbox_processes, smtp_sink):
    team = TeamFactory(time_zone="Europe/London")
    owner = make_agent(team)
    new_owner = AgentFactory(
        team=team,
        display_name="Priya Shah",
        job_title="Senior Billing Specialist",
        direct_email="priya.shah@direct.example.com",
        direct_phone="+44 20 7946 0101",
        working_hours="Mon–Thu 08:00–16:00 (London)",
    ).user
    customer = CustomerFactory(full_name="Ada Okafor", family_name="Okafor", title="Dr")
    case = case_open(
        customer=customer, team=team, channel="email", subject="Refund", by=owner, owner=owner
    )
    handoff = offer(case, to=new_owner)
    hs.handoff_accept(handoff=handoff, by=new_owner)
    outbox_processes.start()

    def introduction():
        return [
            r
            for r in smtp_sink.snapshot()
            if customer.email in r.to and "is now looking after your case" in r.subject
        ]

    wait_for(lambda: introduction(), timeout=30)
    [mail] = introduction()
    assert mail.subject == f"[{case.ref}] Priya Shah is now looking after your case"
    for detail in (
        "Dear Dr Okafor",
        "Priya Shah",
        "Senior Billing Specialist",
        "priya.shah@direct.example.com",
        "+44 20 7946 0101",
        "Mon–Thu 08:00–16:00 (London)",
        "What happens next",
        "/c/",
    ):
        assert detail in mail.text, detail
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None and "priya.shah@direct.example.com" in html.get_content()
