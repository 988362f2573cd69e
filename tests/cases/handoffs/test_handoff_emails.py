"""The hand-off emails as they render: the customer's introduction names the new owner and how
to reach them; internal notes never reach the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from cases import hooks
from cases.handoffs import services as hs
from cases.handoffs import sweep
from cases.hooks import PromiseBrief
from notifications.models import Notification
from notifications.rendering import render_email
from tests.factories import (
    AgentFactory,
    CaseFactory,
    TeamFactory,
    good_summary,
    make_agent,
    make_manager,
    offer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]


@pytest.fixture
def accepted(monkeypatch):
    monkeypatch.setattr(
        hooks,
        "open_commitments",
        [
            lambda case: [
                PromiseBrief(
                    id=5,
                    description="Call you back about the refund",
                    due_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
                )
            ]
        ],
    )
    team = TeamFactory()
    case = CaseFactory(
        team=team,
        customer__full_name="Ada Okafor",
        customer__title="Dr",
        customer__given_name="Ada",
        customer__family_name="Okafor",
    )
    new_owner = AgentFactory(
        team=team,
        display_name="Priya Shah",
        job_title="Senior Billing Specialist",
        direct_email="priya.shah@direct.example.com",
        direct_phone="+44 20 7946 0101",
        working_hours="Mon–Thu 08:00–16:00 (London)",
    ).user
    handoff = offer(
        case,
        to=new_owner,
        briefed_commitments=[5],
        summary=good_summary(next_step="INTERNAL: customer is touchy, be careful with refunds."),
    )
    hs.handoff_accept(handoff=handoff, by=new_owner)
    return Notification.objects.get(dedupe_key=f"handoff:{handoff.pk}:introduction"), case


def test_the_introduction_names_the_new_owners_direct_contacts(accepted):
    notification, case = accepted
    email = render_email(
        template=notification.template,
        context=notification.context,
        recipient_name=notification.recipient_name,
    )
    assert email.subject == f"[{case.ref}] Priya Shah is now looking after your case"
    for body in (email.text, email.html):
        assert "Dear Dr Okafor" in body
        assert "Priya Shah" in body
        assert "Senior Billing Specialist" in body
        assert "priya.shah@direct.example.com" in body
        assert "+44 20 7946 0101" in body
        assert "Mon–Thu 08:00–16:00 (London)" in body
        assert "Call you back about the refund" in body
        assert "Friday 27 November 2026, 12:00 GMT" in body
        assert "/c/" in body  # the customer link
        assert "INTERNAL" not in body


def test_the_introduction_says_who_it_takes_over_from(accepted):
    notification, case = accepted
    email = render_email(template=notification.template, context=notification.context)
    assert "taking over from" in email.text


def test_the_reminder_and_escalation_render_for_staff():
    team = TeamFactory()
    owner, receiver = make_agent(team), make_agent(team)
    make_manager(team)
    case = CaseFactory(team=team, owner=owner)
    handoff = offer(case, to=receiver)
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        sweep.handoff_remind_or_escalate(handoff_id=handoff.pk)
    reminder = Notification.objects.get(dedupe_key=f"handoff:{handoff.pk}:reminder")
    [escalation] = Notification.objects.filter(template="cases/email/handoff_escalation")
    for notification in (reminder, escalation):
        email = render_email(template=notification.template, context=notification.context)
        assert email.subject.startswith(f"[{case.ref}] Hand-off")
        assert handoff.next_step in email.text
        assert f"/cases/{case.ref}/" in email.text
        assert email.html and case.ref in email.html


def test_a_declined_offer_tells_the_owner_the_case_is_still_theirs():
    team = TeamFactory()
    owner, receiver = make_agent(team), make_agent(team)
    case = CaseFactory(team=team, owner=owner)
    handoff = offer(case, to=receiver)
    hs.handoff_decline(handoff=handoff, by=receiver, reason="No access to billing yet.")
    notice = Notification.objects.get(dedupe_key=f"handoff:{handoff.pk}:declined")
    assert notice.recipient_address == owner.email
    email = render_email(template=notice.template, context=notice.context)
    assert email.subject.startswith(f"[{case.ref}]")
    assert "still yours" in email.subject
    assert "No access to billing yet." in email.text
    assert email.html and "No access to billing yet." in email.html
